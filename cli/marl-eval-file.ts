// Raw results in marl-eval's JSON layout, added to a file that may already hold other algorithms
// or tasks (one file for a whole comparison, as marl-eval's tools read it).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mergeMarlEval, type MarlEvalData } from '@fleetmind/worlds';
import { CliError } from './errors.js';

/**
 * marl-eval's task: the world's options but the shield (a safety layer over the policy, named with
 * the algorithm instead), in key order (a run's config and a baseline's flags list them in
 * different orders)
 */
export function marlEvalTask(config: Readonly<Record<string, unknown>>): string {
  const options = Object.entries(config).filter(([key]) => key !== 'shield').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => `${key}=${String(value)}`);
  return options.length > 0 ? options.join(',') : 'default';
}

export function addToMarlEvalFile(file: string, data: MarlEvalData): void {
  writeFileSync(file, `${JSON.stringify(mergedWithFile(file, data))}\n`);
}

/** Where an evaluation's data will go in the file: marl-eval's env, task and algorithm. */
export interface MarlEvalSlot {
  env: string;
  task: string;
  algorithm: string;
}

/**
 * Refuses a file that could not take the data — not JSON, or (given the slot) holding that
 * algorithm already — before the evaluation is done rather than after it: a refusal at the end
 * threw away minutes of evaluated runs.
 */
export function checkMarlEvalFile(file: string, slot?: MarlEvalSlot): void {
  mergedWithFile(file, slot ? { [slot.env]: { [slot.task]: { [slot.algorithm]: {} } } } : {});
}

function mergedWithFile(file: string, data: MarlEvalData): MarlEvalData {
  if (!existsSync(file)) return data;
  try {
    return mergeMarlEval(JSON.parse(readFileSync(file, 'utf8')) as MarlEvalData, data);
  } catch (err) {
    throw new CliError(`--marl-eval ${file}: ${(err as Error).message}`);
  }
}
