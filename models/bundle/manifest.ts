// manifest.json: what a policy bundle is, parsed once with this schema at every edge that reads
// one (verify, inspect, the runtime's loader). Every file the bundle holds is pinned by its
// sha256 here, so signing the manifest signs the whole bundle.

import { z } from 'zod';
import { QUANTIZATIONS } from '@fleetmind/wire';

export const MANIFEST_SCHEMA_VERSION = 1;

/** the most communication rounds a bundle may have (an agent's inbox files a round under its tick in one number) */
export const MAX_COMMUNICATION_ROUNDS = 63;

const fileName = z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, 'a relative path of letters, digits, _ . - and /')
  .refine((p) => !p.split('/').includes('..'), 'no ".." in paths');

const quantization = z.enum(QUANTIZATIONS);

/**
 * a recurrent policy's state: the graphs that take it (a recurrent actor's; a CommNet-GRU's stage 0
 * and fallback) have the input `state` [B, size], the state they returned last tick, and return the
 * next as `next_state`; a robot keeps it between ticks and zeroes it to forget
 */
const recurrentState = z.object({ input: z.literal('state'), output: z.literal('next_state'), size: z.number().int().positive() });

const graphs = z.union([
  z.object({ kind: z.literal('mlp'), actor: fileName, fallback: fileName }),
  z.object({
    kind: z.literal('commnet'), stages: z.array(fileName).min(1), final: fileName, fallback: fileName, state: recurrentState.optional(),
    /** a gated policy (IC3Net's gate): stage 0 also returns `gate` [B] int64, 1 to speak this tick, 0 for silence */
    gate: z.object({ output: z.literal('gate') }).optional(),
  }),
  z.object({ kind: z.literal('recurrent'), actor: fileName, fallback: fileName, state: recurrentState }),
]);

const role = z.object({
  name: z.string().min(1),
  /** agent ids playing this role, in the order of their one-hot index */
  agents: z.array(z.string().min(1)).min(1),
  /**
   * low/high (optional): per-element bounds, from what the observations were in training with a
   * margin; an observation outside them gets the safe action (observation_out_of_range)
   */
  observation: z.object({ size: z.number().int().positive(), fields: z.array(z.string()), low: z.array(z.number()).optional(), high: z.array(z.number()).optional() })
    .refine((o) => o.fields.length === o.size, { message: 'observation.fields must name every element of the observation' })
    .refine((o) => (o.low === undefined) === (o.high === undefined), { message: 'observation.low and observation.high come together' })
    .refine((o) => !o.low || (o.low.length === o.size && o.high!.length === o.size && o.low.every((lo, k) => lo <= o.high![k])), { message: 'observation.low and .high need one bound per element, low ≤ high' }),
  /** length of the one-hot agent index input (0: none) */
  agent_id_size: z.number().int().nonnegative(),
  action: z.union([
    z.object({ kind: z.literal('discrete'), n: z.number().int().positive(), names: z.array(z.string()) }),
    /** a box: the graphs' `action` output is the vector itself (the Gaussian's mean), component k in [low[k], high[k]] */
    z.object({
      kind: z.literal('continuous'), size: z.number().int().positive(), low: z.array(z.number()), high: z.array(z.number()), names: z.array(z.string()),
    }),
  ]),
  /** the action taken when the policy cannot decide: an index (discrete), or a vector in the box (continuous) */
  safe_action: z.union([z.number().int().nonnegative(), z.array(z.number())]),
  graphs,
}).superRefine((r, ctx) => {
  if (r.action.kind === 'discrete') {
    if (typeof r.safe_action !== 'number' || r.safe_action >= r.action.n) ctx.addIssue({ code: 'custom', path: ['safe_action'], message: `must be an action in [0, ${r.action.n})` });
  } else {
    const { size, low, high, names } = r.action;
    if (low.length !== size || high.length !== size || names.length !== size) {
      ctx.addIssue({ code: 'custom', path: ['action'], message: `low, high and names must have ${size} entries each` });
    } else if (low.some((l, k) => !(l <= high[k]))) {
      ctx.addIssue({ code: 'custom', path: ['action'], message: 'each low must be at most its high' });
    }
    const safe = r.safe_action;
    if (!Array.isArray(safe) || safe.length !== size || safe.some((v, k) => !(v >= low[k] && v <= high[k]))) {
      ctx.addIssue({ code: 'custom', path: ['safe_action'], message: `must be a vector of ${size} inside the action box` });
    }
  }
  if (r.agent_id_size !== 0 && r.agent_id_size !== r.agents.length) ctx.addIssue({ code: 'custom', path: ['agent_id_size'], message: `must be 0 or the number of agents (${r.agents.length})` });
});

const evaluation = z.object({
  episodes: z.number().int().positive(),
  seed: z.number().int().nonnegative(),
  agent_return_mean: z.number(),
  team_return_mean: z.number(),
});

export const manifestSchema = z.object({
  schema_version: z.literal(MANIFEST_SCHEMA_VERSION),
  name: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'lower-case letters, digits, _ . -'),
  version: z.string().regex(/^\d+\.\d+\.\d+$/, 'semantic version x.y.z'),
  /** module: a plugin world's module, where it was exported (the simulator loads it again) */
  /** remote: a world served by simulators elsewhere, where it was served at export (remote:tcp://…) */
  world: z.object({ id: z.string(), config: z.record(z.string(), z.unknown()), module: z.string().optional(), remote: z.string().startsWith('remote:').optional() }),
  roles: z.array(role).min(1),
  communication: z.object({
    rounds: z.number().int().positive().max(MAX_COMMUNICATION_ROUNDS),
    message_size: z.number().int().positive(),
    quantization,
    /** the most peers' messages one agent's inbox holds per round */
    inbox_capacity: z.number().int().nonnegative(),
    trained: z.object({ msg_dropout: z.number().min(0).max(1), comm_radius: z.number().positive().nullable(), agent_dropout: z.number().min(0).max(1) }),
  }).nullable(),
  files: z.record(fileName, z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() })),
  provenance: z.object({
    algorithm: z.string(),
    actor: z.enum(['mlp', 'commnet', 'tarmac', 'gru', 'commnet-gru', 'tarmac-gru']),
    env_steps: z.number().int().nonnegative(),
    seed: z.number().int(),
    config_digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    train_command: z.string().nullable(),
    source_commit: z.string().nullable(),
    exported_at: z.string(),
    fleetmind_version: z.string(),
  }),
  evaluation: z.object({
    /** greedy, full communication, f32 messages */
    nominal: evaluation,
    /** the same episodes with messages quantized as communication.quantization says (CommNet only) */
    quantized: evaluation.extend({ quantization }).nullable(),
    /** the same episodes with 30 % of messages lost (CommNet only) */
    msg_dropout_30: evaluation.nullable(),
  }),
  parity: z.object({
    samples: z.number().int().positive(),
    max_abs_error: z.number().nonnegative(),
    action_mismatches: z.number().int().nonnegative(),
    tolerance: z.number().positive(),
  }),
}).superRefine((m, ctx) => {
  m.roles.forEach((r, i) => {
    const used = r.graphs.kind === 'commnet' ? [...r.graphs.stages, r.graphs.final, r.graphs.fallback] : [r.graphs.actor, r.graphs.fallback];
    for (const file of used) if (!(file in m.files)) ctx.addIssue({ code: 'custom', path: ['roles', i, 'graphs'], message: `${file} is not listed in files` });
    if (r.graphs.kind === 'commnet' && (!m.communication || r.graphs.stages.length !== m.communication.rounds + 1)) {
      ctx.addIssue({ code: 'custom', path: ['roles', i, 'graphs', 'stages'], message: 'a CommNet role needs communication and rounds + 1 stages' });
    }
  });
});

export type Manifest = z.infer<typeof manifestSchema>;
export type RoleSpec = Manifest['roles'][number];

/** numbers of state a role's policy keeps per agent between ticks (0: none) */
export function recurrentStateSize(role: RoleSpec): number {
  return role.graphs.kind === 'mlp' ? 0 : role.graphs.state?.size ?? 0;
}

export class BundleError extends Error {
  readonly code = 'FM_ERR_BUNDLE';
}

/** Parses manifest text; the error names the field. */
export function parseManifest(text: string, where = 'manifest.json'): Manifest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new BundleError(`${where} is not JSON: ${(err as Error).message}`);
  }
  if (data && typeof data === 'object' && 'schema_version' in data && data.schema_version !== MANIFEST_SCHEMA_VERSION) {
    throw new BundleError(`${where}: schema_version ${JSON.stringify(data.schema_version)} is not supported (this fleetmind reads ${MANIFEST_SCHEMA_VERSION})`);
  }
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue.code === 'invalid_key') {
      // a bad file name: say which and why, not just "invalid key"
      const key = String(issue.path[issue.path.length - 1]);
      throw new BundleError(`${where}: ${issue.path.slice(0, -1).join('.')}: "${key}" is not an allowed file name: ${issue.issues[0]?.message ?? issue.message}`);
    }
    throw new BundleError(`${where}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return parsed.data;
}
