// Worlds as plugins: `--world ./my-world.js` loads an ES module whose default export defines a
// world — its id, summary and options, the batched core (the WorldCore contract of
// batched-world.ts), and optionally a scripted controller and a joint-success criterion. On load
// the definition is checked member by member and the world it makes is put through
// parallelApiCheck; every violation is one WorldError naming the module, the member and what was
// expected. A world that passes is registered under its id for the rest of the process, so
// every command finds it as it finds a built-in one.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { parallelApiCheck } from './api-check.js';
import { isRemoteWorld } from './remote/endpoints.js';
import { BatchedWorld, type WorldCore } from './batched-world.js';
import { registerWorld, type JointSuccess, type WorldEntry } from './registry.js';
import { WorldError, type World } from './types.js';
import type { Controller } from './controllers/controller.js';

/** One option of a plugin world, as `fleetmind worlds` describes it and the registry checks it. */
export interface WorldOptionSpec {
  type: 'number' | 'integer' | 'boolean';
  min?: number;
  max?: number;
  default?: number | boolean;
  description?: string;
}

/** What a plugin module's default export is. */
export interface WorldDefinition {
  /** a versioned id, e.g. "rendezvous_v0" */
  id: string;
  summary: string;
  aliases?: string[];
  options?: Record<string, WorldOptionSpec>;
  /** numEnvs independent envs of the world with these options (defaults filled in) */
  makeCore(numEnvs: number, options: Record<string, unknown>): WorldCore;
  scripted?(world: World): Controller;
  jointSuccess?: JointSuccess;
}

/** Whether a --world value names a module rather than a world id. */
export function isWorldModulePath(value: string): boolean {
  if (isRemoteWorld(value)) return false;
  return /[\\/]/.test(value) || /\.(m?js|cjs)$/.test(value);
}

const CORE_MEMBERS: [string, string][] = [
  ['possibleAgents', 'an array of unique agent names'], ['roles', 'an array with one role name per agent'],
  ['obsDims', 'an array with each agent\'s observation length'], ['actionSpaces', 'an array with each agent\'s action space (discreteSpace(n) or continuousSpace(low, high))'],
  ['maxCycles', 'the episode step limit, a positive integer'], ['stateSize', 'the global state\'s length, a positive integer'],
  ['infoKeys', 'an array of the per-env metric names'],
];
const CORE_METHODS = ['observationFields', 'resetEnv', 'stepPhysics', 'rewards', 'observe', 'writeInfos', 'writeState', 'snapshot', 'setState'];

/** Loads, checks and registers the world plugin at `path`; returns its id. */
export async function loadWorldPlugin(path: string): Promise<string> {
  const module = resolve(path);
  const fail = (what: string): never => { throw new WorldError(`world plugin ${path}: ${what}`); };
  if (!existsSync(module)) fail('no such file');
  let exported: Record<string, unknown>;
  try {
    exported = await import(pathToFileURL(module).href) as Record<string, unknown>;
  } catch (err) {
    return fail(`cannot be loaded as an ES module: ${(err as Error).message}`);
  }
  const d = exported.default as Partial<WorldDefinition> | undefined;
  if (!d || typeof d !== 'object') return fail('its default export must be the world definition: { id, summary, options?, makeCore, scripted?, jointSuccess? }');
  if (typeof d.id !== 'string' || !/^[a-z][a-z0-9_]*_v\d+$/.test(d.id)) fail(`id must be a versioned world id such as "my_task_v0" (lower case, _vN at the end); got ${JSON.stringify(d.id)}`);
  if (typeof d.summary !== 'string' || d.summary.trim() === '') fail('summary must be a sentence saying what the task is');
  if (d.aliases !== undefined && !(Array.isArray(d.aliases) && d.aliases.every((a) => typeof a === 'string'))) fail('aliases must be an array of strings');
  if (typeof d.makeCore !== 'function') fail('makeCore must be a function (numEnvs, options) → the world\'s batched core');
  if (d.scripted !== undefined && typeof d.scripted !== 'function') fail('scripted must be a function (world) → a controller { act(observations, actions) }');
  if (d.jointSuccess !== undefined && (typeof d.jointSuccess?.description !== 'string' || typeof d.jointSuccess?.reached !== 'function')) {
    fail('jointSuccess must be { description: string, reached(episode, agents): boolean }');
  }
  const configSchema = optionsSchema(d.options, fail);
  const defaults = configSchema.parse({});
  const makeCore = (numEnvs: number, config: Record<string, unknown>): WorldCore => {
    let core: WorldCore;
    try {
      core = d.makeCore!(numEnvs, config);
    } catch (err) {
      return fail(`makeCore(${numEnvs}, ${JSON.stringify(config)}) threw: ${(err as Error).message}`);
    }
    if (!core || typeof core !== 'object') fail('makeCore must return the core object');
    for (const [member, expected] of CORE_MEMBERS) if ((core as unknown as Record<string, unknown>)[member] === undefined) fail(`the core from makeCore has no ${member} (${expected})`);
    for (const method of CORE_METHODS) if (typeof (core as unknown as Record<string, unknown>)[method] !== 'function') fail(`the core from makeCore has no method ${method}() (see WorldCore in the template)`);
    if (core.id !== d.id) fail(`the core's id is ${JSON.stringify(core.id)}, the definition's ${JSON.stringify(d.id)}: they must be the same`);
    if (core.numEnvs !== numEnvs) fail(`the core from makeCore(${numEnvs}) has numEnvs ${core.numEnvs}`);
    const n = core.possibleAgents.length;
    for (const [member, length] of [['roles', n], ['obsDims', n], ['actionSpaces', n]] as const) {
      const value = (core as unknown as Record<string, unknown[]>)[member];
      if (!Array.isArray(value) || value.length !== length) fail(`the core's ${member} must have one entry per agent (${length})`);
    }
    if (!core.obsDims.every((x) => Number.isInteger(x) && x > 0)) fail(`the core's obsDims must be positive integers; got [${core.obsDims.join(', ')}]`);
    if (!core.actionSpaces.every((s) => s && (s.kind === 'discrete' || s.kind === 'continuous'))) fail('the core\'s actionSpaces must be discreteSpace(n) or continuousSpace(low, high) values');
    if (!(Number.isInteger(core.maxCycles) && core.maxCycles > 0)) fail(`the core's maxCycles must be a positive integer; got ${core.maxCycles}`);
    if (!(Number.isInteger(core.stateSize) && core.stateSize > 0)) fail(`the core's stateSize must be a positive integer; got ${core.stateSize}`);
    return core;
  };
  const entry: WorldEntry = {
    id: d.id!, aliases: [...(d.aliases ?? []), module], summary: d.summary!, configSchema,
    makeCore, scripted: d.scripted, jointSuccess: d.jointSuccess ?? null, module,
    scriptsContinuous: true, // a plugin's controller writes whatever actions its world takes
  };
  // the contract, before anything else may use it
  try {
    parallelApiCheck(() => new BatchedWorld(makeCore(2, defaults), { numEnvs: 2, autoReset: true }));
  } catch (err) {
    if (err instanceof WorldError && err.message.startsWith(`world plugin ${path}`)) throw err;
    return fail((err as Error).message);
  }
  registerWorld(entry);
  return entry.id;
}

/** The plugin's option specs as a strict schema with their defaults. */
function optionsSchema(options: unknown, fail: (what: string) => never): z.ZodType<Record<string, unknown>> {
  if (options === undefined) return z.strictObject({});
  if (!options || typeof options !== 'object') fail('options must be an object: name → { type, min?, max?, default?, description? }');
  const shape: Record<string, z.ZodType> = {};
  for (const [name, raw] of Object.entries(options as Record<string, WorldOptionSpec>)) {
    if (!raw || !['number', 'integer', 'boolean'].includes(raw.type)) fail(`options.${name}.type must be "number", "integer" or "boolean"`);
    let field: z.ZodType;
    if (raw.type === 'boolean') field = z.boolean();
    else {
      let num = raw.type === 'integer' ? z.number().int() : z.number();
      if (raw.min !== undefined) num = num.min(raw.min);
      if (raw.max !== undefined) num = num.max(raw.max);
      field = num;
    }
    if (raw.default !== undefined && !field.safeParse(raw.default).success) fail(`options.${name}.default ${JSON.stringify(raw.default)} is not a valid ${raw.type}${raw.min !== undefined ? ` ≥ ${raw.min}` : ''}${raw.max !== undefined ? ` ≤ ${raw.max}` : ''}`);
    if (raw.description !== undefined && typeof raw.description !== 'string') fail(`options.${name}.description must be a string`);
    const option = raw.default === undefined ? field.optional() : field.default(raw.default as never);
    shape[name] = raw.description ? option.describe(raw.description) : option;
  }
  return z.strictObject(shape) as unknown as z.ZodType<Record<string, unknown>>;
}
