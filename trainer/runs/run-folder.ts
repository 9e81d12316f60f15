// A training run on disk: config.json (the resolved configuration and where it ran),
// metrics.jsonl (one line per update), checkpoint.json (written atomically).

import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointSchema, type TrainingCheckpoint } from './checkpoint-schema.js';
import type { TrainingConfig } from '../algos/training-config.js';
import type { TrainingMetrics } from '../algos/hooks.js';

export class RunError extends Error {
  readonly code = 'FM_ERR_RUN';
}

export interface RunInfo {
  config: TrainingConfig;
  backend: string;
  created: string;
  node: string;
  /** each --resume: where the run continued from, and when (curves mark the segments) */
  resumes?: { env_steps: number; at: string }[];
}

export class RunFolder {
  private constructor(readonly dir: string) {}

  static create(dir: string, info: RunInfo, { resume = false } = {}): RunFolder {
    if (existsSync(join(dir, 'checkpoint.json')) && !resume) {
      throw new RunError(`${dir} already holds a run; use --resume to continue it or choose another --out`);
    }
    mkdirSync(dir, { recursive: true });
    if (!resume) {
      writeFileSync(join(dir, 'config.json'), `${JSON.stringify(info, null, 2)}\n`);
      writeFileSync(join(dir, 'metrics.jsonl'), '');
    }
    return new RunFolder(dir);
  }

  static open(dir: string): RunFolder {
    if (!existsSync(join(dir, 'config.json'))) throw new RunError(`${dir} is not a run folder (no config.json)`);
    return new RunFolder(dir);
  }

  info(): RunInfo {
    try {
      return JSON.parse(readFileSync(join(this.dir, 'config.json'), 'utf8')) as RunInfo;
    } catch (err) {
      throw new RunError(`${this.dir}/config.json is unreadable: ${(err as Error).message}`);
    }
  }

  /** Notes that the run continues from `envSteps` now (in config.json, written atomically). */
  recordResume(envSteps: number): void {
    const info = this.info();
    info.resumes = [...(info.resumes ?? []), { env_steps: envSteps, at: new Date().toISOString() }];
    const tmp = join(this.dir, `config.json.${process.pid}.tmp`);
    writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`);
    renameSync(tmp, join(this.dir, 'config.json'));
  }

  /** every metrics line so far, in order */
  metrics(): TrainingMetrics[] {
    const path = join(this.dir, 'metrics.jsonl');
    if (!existsSync(path)) return [];
    return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).flatMap((line) => {
      try {
        return [JSON.parse(line) as TrainingMetrics];
      } catch {
        return []; // a line cut by a crash mid-write
      }
    });
  }

  appendMetrics(metrics: TrainingMetrics): void {
    appendFileSync(join(this.dir, 'metrics.jsonl'), `${JSON.stringify(metrics)}\n`);
  }

  saveCheckpoint(checkpoint: TrainingCheckpoint): void {
    const tmp = join(this.dir, `checkpoint.json.${process.pid}.tmp`);
    writeFileSync(tmp, JSON.stringify(checkpoint));
    renameSync(tmp, join(this.dir, 'checkpoint.json'));
  }

  loadCheckpoint(): TrainingCheckpoint {
    const path = join(this.dir, 'checkpoint.json');
    if (!existsSync(path)) throw new RunError(`${this.dir} has no checkpoint.json yet`);
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new RunError(`${path} is corrupt: ${(err as Error).message}`);
    }
    const parsed = checkpointSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RunError(`${path} is not a valid checkpoint: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    }
    return parsed.data;
  }
}
