// Argument parsers for commander options: each rejects bad input with a message naming the value.

import { InvalidArgumentError } from 'commander';

/** digits, optionally in scientific notation (1e6, 2.5e5) or with _ between groups (7_000_000) */
const WHOLE_NUMBER = /^\d+(_\d+)*(\.\d+)?(e\+?\d+)?$/i;
const wholeNumber = (value: string): number => (WHOLE_NUMBER.test(value.trim()) ? Number(value.trim().replaceAll('_', '')) : NaN);

export function positiveInt(value: string): number {
  const n = wholeNumber(value);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  }
  return n;
}

/** Seeds and counts that may be 0; InvalidArgumentError names the option in commander's message. */
export function nonNegativeInt(value: string): number {
  const n = wholeNumber(value);
  if (!Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`expected a non-negative integer, got "${value}"`);
  }
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  }
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError(`expected a number of 0 or more, got "${value}"`);
  }
  return n;
}

export function positiveIntList(value: string): number[] {
  return value.split(',').map((part) => positiveInt(part));
}

export function probability(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new InvalidArgumentError(`expected a probability in [0, 1], got "${value}"`);
  }
  return n;
}

/** A comma-separated list of names (roles, agents), trimmed and without repeats. */
export function nameList(value: string): string[] {
  const names = [...new Set(value.split(',').map((name) => name.trim()).filter((name) => name.length > 0))];
  if (names.length === 0) throw new InvalidArgumentError(`expected a comma-separated list of names, got "${value}"`);
  return names;
}

/** A TCP port, 0 meaning any free one. */
export function portNumber(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError(`expected a port number 0-65535, got "${value}"`);
  return Number(value);
}

/**
 * One KEY=VALUE pair of a repeatable option (a world option, a training setting): the value is read
 * as JSON where it is JSON (3, 0.05, true, "x", [64,64]), as a string otherwise (difficulty=hard).
 */
export function worldOption(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const at = value.indexOf('=');
  const key = value.slice(0, at).trim();
  if (at <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new InvalidArgumentError(`expected KEY=VALUE (e.g. difficulty=hard), got "${value}"`);
  const raw = value.slice(at + 1).trim();
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // a bare word: a string
  }
  if (key in previous) throw new InvalidArgumentError(`${key} is given twice`);
  return { ...previous, [key]: parsed };
}

/** A baseline policy: random, scripted, or always:K (every agent always takes discrete action K). */
export function baselinePolicy(value: string): string {
  if (value === 'random' || value === 'scripted' || /^always:\d+$/.test(value)) return value;
  throw new InvalidArgumentError(`expected random, scripted or always:K (e.g. always:0), got "${value}"`);
}
