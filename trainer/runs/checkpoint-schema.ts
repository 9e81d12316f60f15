// The checkpoints of every training algorithm, as schemas: a run folder's checkpoint.json is
// parsed once here, and a damaged or mismatched one is refused with the field that is wrong.

import { z } from 'zod';
import type { MappoCheckpoint, MappoConfig } from '../algos/mappo.js';
import type { QLearningCheckpoint, QLearningConfig } from '../algos/q-learning.js';
import type { MaddpgCheckpoint, MaddpgConfig } from '../algos/maddpg.js';
import type { TabularIqlCheckpoint, TabularIqlConfig } from '../algos/iql-tabular.js';

export type TrainingConfig = MappoConfig | QLearningConfig | MaddpgConfig | TabularIqlConfig;
export type TrainingCheckpoint = MappoCheckpoint | QLearningCheckpoint | MaddpgCheckpoint | TabularIqlCheckpoint;
/** the checkpoints whose policy is a network (everything but the Q-tables) */
export type NetworkCheckpoint = Exclude<TrainingCheckpoint, TabularIqlCheckpoint>;

export function isTabular(checkpoint: TrainingCheckpoint): checkpoint is TabularIqlCheckpoint {
  return checkpoint.config.algo === 'iql-tabular';
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

const worldSchema = z.object({ envs: z.array(z.record(z.string(), z.unknown())), rngs: z.array(z.array(z.number())) });
const statsFields = { episodeReturn: z.array(z.number()), episodeInfo: z.array(z.number()), finished: z.number().int().nonnegative().optional() };
const replaySchema = z.object({
  iteration: z.number().int().nonnegative(),
  episodeStart: z.array(z.number().int()),
  episodes: z.array(z.object({ env: z.number().int(), first: z.number().int(), length: z.number().int().positive() })),
  arrays: z.record(z.string(), z.string()),
});
const offPolicyLoop = z.object({ rng: z.array(z.number()), world: worldSchema, replay: replaySchema, ...statsFields });
const mixerSchema = z.object({
  spec: z.object({ kind: z.enum(['vdn', 'qmix']), numAgents: z.number().int().positive(), stateSize: z.number().int().positive(), embed: z.number().int().positive(), hyperHidden: z.number().int().positive() }),
  nets: z.array(mlpSchema),
});
const configOf = (algos: [string, ...string[]]) => z.object({ algo: z.enum(algos), world: z.string(), worldConfig: z.record(z.string(), z.unknown()) }).loose();

const mappoSchema = z.object({
  config: configOf(['mappo', 'ippo']),
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
  loop: z.object({ rng: z.array(z.number()), world: worldSchema, ...statsFields }),
  opponentPools: z.array(z.array(z.union([mlpSchema, commNetSchema]))).optional(),
});

const qLearningSchema = z.object({
  config: configOf(['iql', 'vdn', 'qmix']),
  envSteps: z.number().int().nonnegative(),
  updates: z.number().int().nonnegative(),
  roles: z.array(z.object({
    role: z.string(), actor: mlpSchema, target: mlpSchema, mixer: mixerSchema.nullable(), targetMixer: mixerSchema.nullable(), optimizer: optimizerSchema,
  })).min(1),
  loop: offPolicyLoop,
});

const maddpgSchema = z.object({
  config: configOf(['maddpg']),
  envSteps: z.number().int().nonnegative(),
  updates: z.number().int().nonnegative(),
  roles: z.array(z.object({
    role: z.string(), actor: mlpSchema, targetActor: mlpSchema, critic: mlpSchema, targetCritic: mlpSchema,
    actorOptimizer: optimizerSchema, criticOptimizer: optimizerSchema,
  })).min(1),
  loop: offPolicyLoop,
});

const tabularSchema = z.object({
  config: configOf(['iql-tabular']),
  envSteps: z.number().int().nonnegative(),
  updates: z.number().int().nonnegative(),
  epsilon: z.number().min(0).max(1),
  numStates: z.number().int().positive(),
  numActions: z.number().int().positive(),
  tables: z.array(z.object({ agent: z.string(), index: z.array(z.number().int().nonnegative()), value: z.array(z.number()) })
    .refine((t) => t.index.length === t.value.length, { message: 'index and value must have the same length' })).min(1),
  loop: z.object({ rng: z.array(z.number()), ...statsFields }),
});

/** Any algorithm's checkpoint, told apart by config.algo. */
export const checkpointSchema = z.custom<unknown>().pipe(z.union([mappoSchema, qLearningSchema, maddpgSchema, tabularSchema]));

