// The checkpoints of every training algorithm, as schemas, and their types inferred from them:
// one source. A run folder's checkpoint.json is parsed once here, and a damaged or mismatched
// one is refused with the field that is wrong. The algorithms build these values; nothing here
// imports an algorithm (only their configuration schemas), so no import cycle runs through it.

import { z } from 'zod';
import { worldCheckpointSchema } from '@fleetmind/worlds';
import { mappoConfigSchema } from '../algos/mappo-config.js';
import { qLearningConfigSchema } from '../algos/q-learning-config.js';
import { maddpgConfigSchema } from '../algos/maddpg-config.js';
import { tabularIqlConfigSchema } from '../algos/iql-tabular-config.js';

export const mlpWeightsSchema = z.object({
  spec: z.object({
    /** layer widths, input first: e.g. [18, 64, 64, 5] */
    sizes: z.array(z.number().int().positive()).min(2),
    activation: z.enum(['tanh', 'relu']),
    /** scale of the last layer's initial weights (0.01 for a policy head: near-uniform at start) */
    outputGain: z.number(),
    /** normalise each input vector to mean 0, variance 1 across its features (MAPPO's feature normalisation) */
    inputLayerNorm: z.boolean().optional(),
    /** normalise each hidden layer's output (after its activation) the same way (the MAPPO paper's MLP layers: Linear, activation, LayerNorm) */
    hiddenLayerNorm: z.boolean().optional(),
  }),
  /** per layer: W [in, out] row-major, then b [out] */
  layers: z.array(z.object({ w: z.array(z.number()), b: z.array(z.number()) })),
}).superRefine((m, ctx) => {
  if (m.layers.length !== m.spec.sizes.length - 1) ctx.addIssue({ code: 'custom', message: `${m.layers.length} layers for sizes [${m.spec.sizes}]` });
  m.layers.forEach((l, i) => {
    if (l.w.length !== m.spec.sizes[i] * m.spec.sizes[i + 1] || l.b.length !== m.spec.sizes[i + 1]) {
      ctx.addIssue({ code: 'custom', path: ['layers', i], message: `layer ${i} has the wrong number of weights for [${m.spec.sizes[i]}, ${m.spec.sizes[i + 1]}]` });
    }
  });
});

export const commNetWeightsSchema = z.object({
  spec: z.object({
    inputSize: z.number().int().positive(), hidden: z.number().int().positive(), rounds: z.number().int().nonnegative(),
    numActions: z.number().int().positive(), inputLayerNorm: z.boolean().optional(),
    /** TarMAC: each round attends over the messages heard (query and key size d) instead of taking their mean */
    attention: z.object({ keySize: z.number().int().positive() }).optional(),
    /** CommNet-GRU: h⁰ comes from a GRU cell over the encoding and the agent's state (its h⁰ of the last step) */
    recurrent: z.literal('gru').optional(),
    /** IC3Net's gate: each agent also chooses, every step, whether its messages go out (gate_w, gate_b) */
    gated: z.literal(true).optional(),
  }),
  /** name → row-major values: enc_w [in, H], enc_b [H], h_w_k / c_w_k [H, H], b_k [H], out_w [H, A], out_b [A]; with attention q_w_k / k_w_k [H, d]; recurrent: gru_x_w [H, 3H], gru_x_b [3H], gru_h_w [H, 2H], gru_n_w [H, H]; gated: gate_w [H, 2], gate_b [2] */
  tensors: z.record(z.string(), z.array(z.number())),
}).superRefine((c, ctx) => {
  const { inputSize: i, hidden: h, rounds, numActions: a } = c.spec;
  const sizes: Record<string, number> = { enc_w: i * h, enc_b: h, out_w: h * a, out_b: a };
  for (let k = 1; k <= rounds; k++) Object.assign(sizes, { [`h_w_${k}`]: h * h, [`c_w_${k}`]: h * h, [`b_${k}`]: h });
  const d = c.spec.attention?.keySize;
  if (d) for (let k = 1; k <= rounds; k++) Object.assign(sizes, { [`q_w_${k}`]: h * d, [`k_w_${k}`]: h * d });
  if (c.spec.recurrent) Object.assign(sizes, { gru_x_w: h * 3 * h, gru_x_b: 3 * h, gru_h_w: h * 2 * h, gru_n_w: h * h });
  if (c.spec.gated) Object.assign(sizes, { gate_w: h * 2, gate_b: 2 });
  for (const [name, size] of Object.entries(sizes)) {
    if (c.tensors[name]?.length !== size) ctx.addIssue({ code: 'custom', path: ['tensors', name], message: `"${name}" must hold ${size} numbers` });
  }
});

export const gruWeightsSchema = z.object({
  // (strict: a recurrent CommNet's spec, which has rounds, is not a GRU's)
  spec: z.strictObject({
    /** a recurrent actor (nn/gru.ts): its state is `hidden` numbers carried from one step to the next */
    recurrent: z.literal('gru'),
    inputSize: z.number().int().positive(), hidden: z.number().int().positive(), numActions: z.number().int().positive(),
    inputLayerNorm: z.boolean().optional(),
  }),
  /** name → row-major values: enc_w [in, H], enc_b [H], x_w [H, 3H] and x_b [3H] (z, r, n), h_w [H, 2H] (z, r), n_w [H, H], out_w [H, A], out_b [A] */
  tensors: z.record(z.string(), z.array(z.number())),
}).superRefine((g, ctx) => {
  const { inputSize: i, hidden: h, numActions: a } = g.spec;
  const sizes: Record<string, number> = { enc_w: i * h, enc_b: h, x_w: h * 3 * h, x_b: 3 * h, h_w: h * 2 * h, n_w: h * h, out_w: h * a, out_b: a };
  for (const [name, size] of Object.entries(sizes)) {
    if (g.tensors[name]?.length !== size) ctx.addIssue({ code: 'custom', path: ['tensors', name], message: `"${name}" must hold ${size} numbers` });
  }
});

const actorWeightsSchema = z.union([gruWeightsSchema, mlpWeightsSchema, commNetWeightsSchema]);

/** running mean and variance of value targets (Welford) */
export const valueNormalizerStateSchema = z.object({ count: z.number(), mean: z.number(), m2: z.number() });

export const adamStateSchema = z.object({
  step: z.number().int().nonnegative(),
  /** first and second moments, one array per variable, in the variables' order */
  m: z.array(z.array(z.number())),
  v: z.array(z.array(z.number())),
});

export const mixerWeightsSchema = z.object({
  spec: z.object({ kind: z.enum(['vdn', 'qmix']), numAgents: z.number().int().positive(), stateSize: z.number().int().positive(), embed: z.number().int().positive(), hyperHidden: z.number().int().positive() }),
  /** QMIX: hyperW1, hyperB1, hyperW2, value; VDN: none */
  nets: z.array(mlpWeightsSchema),
});

export const episodeStatsSchema = z.object({
  /** [E, N] returns of the episodes in progress */
  episodeReturn: z.array(z.number()),
  /** [E, infos] outcome sums of the episodes in progress */
  episodeInfo: z.array(z.number()),
  /** episodes finished since training began */
  finished: z.number().int().nonnegative().optional(),
});

export const replayStateSchema = z.object({
  iteration: z.number().int().nonnegative(),
  /** iteration at which each env's current episode started */
  episodeStart: z.array(z.number().int()),
  episodes: z.array(z.object({ env: z.number().int(), first: z.number().int(), length: z.number().int().positive() })),
  /** the arrays, each as base64 of its bytes */
  arrays: z.record(z.string(), z.string()),
});

const offPolicyLoopSchema = episodeStatsSchema.extend({ rng: z.array(z.number()), world: worldCheckpointSchema, replay: replayStateSchema });

export const mappoCheckpointSchema = z.object({
  config: mappoConfigSchema,
  envSteps: z.number().int().nonnegative(),
  updates: z.number().int().nonnegative(),
  roles: z.array(z.object({
    role: z.string(),
    actor: actorWeightsSchema,
    critic: mlpWeightsSchema,
    /** continuous actions: the Gaussian's log standard deviation per component (its mean is the actor's output) */
    logStd: z.array(z.number()).optional(),
    valueNorm: valueNormalizerStateSchema,
    actorOptimizer: adamStateSchema,
    criticOptimizer: adamStateSchema,
    /** [E, n] who is alive in each env's current episode */
    alive: z.array(z.number()),
    /** a recurrent actor: each row's state [E·n, H] and whether it is zeroed before the next step [E·n] */
    recurrent: z.object({ state: z.array(z.number()), resets: z.array(z.number()) }).optional(),
  })).min(1),
  /** where the loop stood: its random stream, the worlds mid-episode, the returns so far */
  loop: episodeStatsSchema.extend({ rng: z.array(z.number()), world: worldCheckpointSchema }),
  /** self-play: each role's pool of past actors */
  opponentPools: z.array(z.array(actorWeightsSchema)).optional(),
});

export const qLearningCheckpointSchema = z.object({
  config: qLearningConfigSchema,
  envSteps: z.number().int().nonnegative(),
  updates: z.number().int().nonnegative(),
  roles: z.array(z.object({
    role: z.string(),
    /** the online agent Q-network (an MLP or a GRU): its argmax is the policy */
    actor: z.union([gruWeightsSchema, mlpWeightsSchema]),
    target: z.union([gruWeightsSchema, mlpWeightsSchema]),
    mixer: mixerWeightsSchema.nullable(),
    targetMixer: mixerWeightsSchema.nullable(),
    optimizer: adamStateSchema,
    /** a GRU's acting memory [E·m, H] as the loop left it, and which rows' agents were in the last step */
    memory: z.object({ state: z.array(z.number()), wasActive: z.array(z.number().int().min(0).max(1)) }).optional(),
  })).min(1),
  loop: offPolicyLoopSchema,
});

export const maddpgCheckpointSchema = z.object({
  config: maddpgConfigSchema,
  envSteps: z.number().int().nonnegative(),
  updates: z.number().int().nonnegative(),
  roles: z.array(z.object({
    role: z.string(),
    /** the deterministic policy: argmax of these logits */
    actor: mlpWeightsSchema,
    targetActor: mlpWeightsSchema,
    critic: mlpWeightsSchema,
    targetCritic: mlpWeightsSchema,
    actorOptimizer: adamStateSchema,
    criticOptimizer: adamStateSchema,
  })).min(1),
  loop: offPolicyLoopSchema,
});

export const tabularIqlCheckpointSchema = z.object({
  config: tabularIqlConfigSchema,
  envSteps: z.number().int().nonnegative(),
  /** episodes played */
  updates: z.number().int().nonnegative(),
  epsilon: z.number().min(0).max(1),
  numStates: z.number().int().positive(),
  numActions: z.number().int().positive(),
  /** per agent, the table's non-zero entries: flat index s·A + a, and value */
  tables: z.array(z.object({ agent: z.string(), index: z.array(z.number().int().nonnegative()), value: z.array(z.number()) })
    .refine((t) => t.index.length === t.value.length, { message: 'index and value must have the same length' })).min(1),
  loop: episodeStatsSchema.extend({ rng: z.array(z.number()) }),
});

/** Any algorithm's checkpoint, told apart by config.algo. */
export const checkpointSchema = z.union([mappoCheckpointSchema, qLearningCheckpointSchema, maddpgCheckpointSchema, tabularIqlCheckpointSchema]);

export type MlpWeights = z.infer<typeof mlpWeightsSchema>;
export type CommNetWeights = z.infer<typeof commNetWeightsSchema>;
export type GruWeights = z.infer<typeof gruWeightsSchema>;
export type MixerWeights = z.infer<typeof mixerWeightsSchema>;
export type AdamState = z.infer<typeof adamStateSchema>;
export type ValueNormalizerState = z.infer<typeof valueNormalizerStateSchema>;
export type EpisodeStatsState = z.infer<typeof episodeStatsSchema>;
export type ReplayState = z.infer<typeof replayStateSchema>;
export type MappoCheckpoint = z.infer<typeof mappoCheckpointSchema>;
export type RoleCheckpoint = MappoCheckpoint['roles'][number];
export type QLearningCheckpoint = z.infer<typeof qLearningCheckpointSchema>;
export type QRoleCheckpoint = QLearningCheckpoint['roles'][number];
export type MaddpgCheckpoint = z.infer<typeof maddpgCheckpointSchema>;
export type MaddpgRoleCheckpoint = MaddpgCheckpoint['roles'][number];
export type TabularIqlCheckpoint = z.infer<typeof tabularIqlCheckpointSchema>;
export type TrainingCheckpoint = z.infer<typeof checkpointSchema>;
/** the checkpoints whose policy is a network (everything but the Q-tables) */
export type NetworkCheckpoint = Exclude<TrainingCheckpoint, TabularIqlCheckpoint>;
/** where an off-policy loop stood: env steps, its random stream, the worlds, the replay */
export type OffPolicyState = Pick<QLearningCheckpoint, 'envSteps' | 'loop'>;

export function isTabular(checkpoint: TrainingCheckpoint): checkpoint is TabularIqlCheckpoint {
  return checkpoint.config.algo === 'iql-tabular';
}
