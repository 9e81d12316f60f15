// A training run on disk: config.json (the resolved configuration and where it ran),
// metrics.jsonl (one line per update), checkpoint.json (written atomically).

import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { MappoCheckpoint, MappoConfig } from '../algos/mappo.js';

export class RunError extends Error {
  readonly code = 'FM_ERR_RUN';
}

export interface RunInfo {
  config: MappoConfig;
  backend: string;
  created: string;
  node: string;
}

const mlpSchema = z.object({
  spec: z.object({ sizes: z.array(z.number().int().positive()).min(2), activation: z.enum(['tanh', 'relu']), outputGain: z.number(), inputLayerNorm: z.boolean().optional() }),
  layers: z.array(z.object({ w: z.array(z.number()), b: z.array(z.number()) })),
}).superRefine((m, ctx) => {
  if (m.layers.length !== m.spec.sizes.length - 1) ctx.addIssue({ code: 'custom', message: `${m.layers.length} layers for sizes [${m.spec.sizes}]` });
  m.layers.forEach((l, i) => {
    if (l.w.length !== m.spec.sizes[i] * m.spec.sizes[i + 1] || l.b.length !== m.spec.sizes[i + 1]) {
      ctx.addIssue({ code: 'custom', path: ['layers', i], message: `layer ${i} has the wrong number of weights for [${m.spec.sizes[i]}, ${m.spec.sizes[i + 1]}]` });
    }
  });
});

const commNetSchema = z.object({
  spec: z.object({
    inputSize: z.number().int().positive(), hidden: z.number().int().positive(), rounds: z.number().int().nonnegative(),
    numActions: z.number().int().positive(), inputLayerNorm: z.boolean().optional(),
  }),
  tensors: z.record(z.string(), z.array(z.number())),
}).superRefine((c, ctx) => {
  const { inputSize: i, hidden: h, rounds, numActions: a } = c.spec;
  const sizes: Record<string, number> = { enc_w: i * h, enc_b: h, out_w: h * a, out_b: a };
  for (let k = 1; k <= rounds; k++) Object.assign(sizes, { [`h_w_${k}`]: h * h, [`c_w_${k}`]: h * h, [`b_${k}`]: h });
  for (const [name, size] of Object.entries(sizes)) {
    if (c.tensors[name]?.length !== size) ctx.addIssue({ code: 'custom', path: ['tensors', name], message: `"${name}" must hold ${size} numbers` });
  }
});

const optimizerSchema = z.object({ step: z.number().int().nonnegative(), m: z.array(z.array(z.number())), v: z.array(z.array(z.number())) });

const checkpointSchema = z.object({
  config: z.record(z.string(), z.unknown()),
  envSteps: z.number().int().nonnegative(),
  updates: z.number().int().nonnegative(),
  roles: z.array(z.object({
    role: z.string(),
    actor: z.union([mlpSchema, commNetSchema]),
    critic: mlpSchema,
    valueNorm: z.object({ count: z.number(), mean: z.number(), m2: z.number() }),
    actorOptimizer: optimizerSchema,
    criticOptimizer: optimizerSchema,
    alive: z.array(z.number()),
  })).min(1),
  loop: z.object({
    rng: z.array(z.number()),
    world: z.object({ envs: z.array(z.record(z.string(), z.unknown())), rngs: z.array(z.array(z.number())) }),
    episodeReturn: z.array(z.number()),
    episodeInfo: z.array(z.number()),
  }),
});

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

  /** every metrics line so far, in order */
  metrics(): Record<string, number>[] {
    const path = join(this.dir, 'metrics.jsonl');
    if (!existsSync(path)) return [];
    return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, number>];
      } catch {
        return []; // a line cut by a crash mid-write
      }
    });
  }

  appendMetrics(metrics: Record<string, number>): void {
    appendFileSync(join(this.dir, 'metrics.jsonl'), `${JSON.stringify(metrics)}\n`);
  }

  saveCheckpoint(checkpoint: MappoCheckpoint): void {
    const tmp = join(this.dir, `checkpoint.json.${process.pid}.tmp`);
    writeFileSync(tmp, JSON.stringify(checkpoint));
    renameSync(tmp, join(this.dir, 'checkpoint.json'));
  }

  loadCheckpoint(): MappoCheckpoint {
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
    return parsed.data as unknown as MappoCheckpoint;
  }
}
