// Raw results in marl-eval's JSON layout, added to a file that may already hold other algorithms
// or tasks (one file for a whole comparison, as marl-eval's tools read it).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mergeMarlEval, type MarlEvalData } from '@fleetmind/worlds';
import { CliError } from './errors.js';

export function addToMarlEvalFile(file: string, data: MarlEvalData): void {
  let merged = data;
  if (existsSync(file)) {
    try {
      merged = mergeMarlEval(JSON.parse(readFileSync(file, 'utf8')) as MarlEvalData, data);
    } catch (err) {
      throw new CliError(`--marl-eval ${file}: ${(err as Error).message}`);
    }
  }
  writeFileSync(file, `${JSON.stringify(merged)}\n`);
}
