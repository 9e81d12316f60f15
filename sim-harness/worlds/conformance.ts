// Replays reference trajectories recorded from PettingZoo's own MPE code
// ("mpe-reference-trajectories/1", see test/fixtures/mpe/README.md) and measures how far our
// worlds are from them: observations (float32 and float64), positions, velocities and rewards,
// plus the discrete outcomes (collision counts, speed clamps, truncation) that must match exactly.
// Files recorded with continuous actions (test/fixtures/mpe-continuous/README.md) also carry each
// agent's action force, which must match bit for bit.

import { z } from 'zod';
import { makeWorld, resolveWorldId } from './registry.js';
import { parseParticleSnapshot } from './mpe/particle-state.js';

export const CONFORMANCE_FORMAT = 'mpe-reference-trajectories/1';

/** |ours − reference| allowed per quantity (the README's recommendation; obs are bit-exact). */
export const CONFORMANCE_TOLERANCE = { obs: 0, obs_f64: 1e-9, pos: 1e-9, vel: 1e-9, reward: 1e-9, action_u: 0 } as const;

type Quantity = keyof typeof CONFORMANCE_TOLERANCE;
type Discrete = 'collisions' | 'catches' | 'speed_clamps' | 'truncated' | 'terminated';

const int = z.number().int();
const vec2 = z.tuple([z.number(), z.number()]);
const rows = z.array(z.array(z.number()));

const stepSchema = z.object({
  t: int,
  /** per agent: a discrete action, or a continuous action's components (float32 values) */
  actions: z.union([z.array(int), z.array(z.array(z.number()))]),
  /** continuous files: each agent's action force before contacts */
  agent_action_u: z.array(vec2).optional(),
  obs: rows,
  obs_f64: rows,
  rewards: z.array(z.number()),
  agent_pos: z.array(vec2),
  agent_vel: z.array(vec2),
  agent_force: z.array(vec2).optional(),
  terminated: z.boolean(),
  truncated: z.boolean(),
});

const episodeSchema = z.object({
  env_kwargs: z.record(z.string(), z.unknown()),
  seed: int,
  agents: z.array(z.string()).min(1),
  landmarks: z.array(z.string()),
  initial: z.object({
    agent_pos: z.array(vec2),
    agent_vel: z.array(vec2),
    landmark_pos: z.array(vec2),
    obs: rows,
    obs_f64: rows,
  }),
  steps: z.array(stepSchema).min(1),
});

const agentEntitySchema = z.object({ size: z.number(), max_speed: z.number().nullable() }).passthrough();

const vectorsSchema = z.object({
  format: z.literal(CONFORMANCE_FORMAT),
  env: z.string(),
  configs: z.array(z.object({
    env_kwargs: z.record(z.string(), z.unknown()),
    entities: z.object({ agents: z.array(agentEntitySchema) }).passthrough(),
  }).passthrough()),
  episodes: z.array(episodeSchema).min(1),
});

export type ConformanceVectors = z.infer<typeof vectorsSchema>;
type Episode = ConformanceVectors['episodes'][number];

export interface ConformanceFailure {
  episode: number;
  seed: number;
  step: number;
  agent: string;
  quantity: Quantity | Discrete;
  index: number;
  expected: number;
  actual: number;
  abs_err: number;
  tolerance: number;
}

export interface ConformanceReport {
  world: string;
  episodes: number;
  steps: number;
  max_abs_err: Record<Quantity, number>;
  /** discrete outcomes that differ (must all be 0) */
  discrete_mismatches: Record<Discrete, number>;
  tolerance: typeof CONFORMANCE_TOLERANCE;
  pass: boolean;
  /** the earliest failure (by episode, then step), if any */
  first_failure?: ConformanceFailure;
}

/** Thrown when a vectors file cannot be replayed at all (wrong format, unknown world, …). */
export class ConformanceFormatError extends Error {
  readonly code = 'FM_ERR_VECTORS';
  override readonly name = 'ConformanceFormatError';
}

/** Validates parsed JSON as a vectors file; the error names the first bad field. */
export function parseConformanceVectors(data: unknown): ConformanceVectors {
  const parsed = vectorsSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    throw new ConformanceFormatError(`not a ${CONFORMANCE_FORMAT} file: ${where || '(top level)'}: ${issue.message}`);
  }
  return parsed.data;
}

const KWARG_NAMES: Record<string, string> = {
  N: 'N', local_ratio: 'localRatio', max_cycles: 'maxCycles', continuous_actions: 'continuousActions',
  num_good: 'numGood', num_adversaries: 'numAdversaries', num_obstacles: 'numObstacles',
};

function worldConfig(kwargs: Record<string, unknown>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(kwargs)) {
    const name = KWARG_NAMES[key];
    if (!name) throw new ConformanceFormatError(`env_kwargs key "${key}" is not supported (known: ${Object.keys(KWARG_NAMES).join(', ')})`);
    config[name] = value;
  }
  return config;
}

export function replayConformanceVectors(vectors: ConformanceVectors): ConformanceReport {
  let worldId: string;
  try {
    worldId = resolveWorldId(vectors.env);
  } catch (err) {
    throw new ConformanceFormatError((err as Error).message);
  }
  if (worldId !== 'simple_spread_v3' && worldId !== 'simple_tag_v3') {
    throw new ConformanceFormatError(`world "${vectors.env}" has no MPE reference physics to check`);
  }
  const maxErr: Record<Quantity, number> = { obs: 0, obs_f64: 0, pos: 0, vel: 0, reward: 0, action_u: 0 };
  const mismatches: Record<Discrete, number> = { collisions: 0, catches: 0, speed_clamps: 0, truncated: 0, terminated: 0 };
  let first: ConformanceFailure | undefined;
  let totalSteps = 0;

  const note = (f: Omit<ConformanceFailure, 'abs_err' | 'tolerance'>, tolerance: number): void => {
    const err = Math.abs(f.actual - f.expected);
    const absErr = Number.isNaN(err) ? Infinity : err;
    if (f.quantity in maxErr) {
      const q = f.quantity as Quantity;
      maxErr[q] = Math.max(maxErr[q], absErr);
    } else if (absErr !== 0) {
      mismatches[f.quantity as Discrete]++;
    }
    if (absErr > tolerance && (!first || f.episode < first.episode || (f.episode === first.episode && f.step < first.step))) {
      first = { ...f, abs_err: absErr, tolerance };
    }
  };

  const groups = new Map<string, number[]>();
  vectors.episodes.forEach((ep, i) => {
    const key = JSON.stringify(ep.env_kwargs);
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });

  for (const indices of groups.values()) {
    const episodes = indices.map((i) => vectors.episodes[i]);
    const kwargs = episodes[0].env_kwargs;
    const world = makeWorld(worldId, { numEnvs: episodes.length, autoReset: false, config: worldConfig(kwargs) });
    const agents = world.possibleAgents;
    const n = agents.length;
    const refConfig = vectors.configs.find((c) => JSON.stringify(c.env_kwargs) === JSON.stringify(kwargs));
    const maxSpeeds = refConfig?.entities.agents.map((a) => a.max_speed) ?? agents.map(() => null);
    const sizes = refConfig?.entities.agents.map((a) => a.size);
    const firstSpace = world.actionSpace(0);
    episodes.forEach((ep, k) => checkShapes(ep, indices[k], agents, world.possibleAgents.map((a) => world.observationSpace(a).shape[0]), firstSpace.kind === 'continuous' ? firstSpace.shape[0] : null));

    const { observations } = world.reset(0);
    episodes.forEach((ep, e) => world.setState(e, {
      agentPos: ep.initial.agent_pos, agentVel: ep.initial.agent_vel, landmarkPos: ep.initial.landmark_pos, steps: 0,
    }));
    const compareObs = (e: number, step: number, ref32: number[][], ref64: number[][]) => {
      const f64 = world.observationsF64();
      for (let i = 0; i < n; i++) {
        const d = world.observationSpace(i).shape[0];
        for (let j = 0; j < d; j++) {
          const at = { episode: indices[e], seed: episodes[e].seed, step, agent: agents[i], index: j };
          note({ ...at, quantity: 'obs', expected: ref32[i][j], actual: observations[i][e * d + j] }, CONFORMANCE_TOLERANCE.obs);
          note({ ...at, quantity: 'obs_f64', expected: ref64[i][j], actual: f64[i][e * d + j] }, CONFORMANCE_TOLERANCE.obs_f64);
        }
      }
    };
    episodes.forEach((ep, e) => compareObs(e, 0, ep.initial.obs, ep.initial.obs_f64));

    const numSteps = Math.max(...episodes.map((ep) => ep.steps.length));
    const space = world.actionSpace(0);
    const d = space.kind === 'continuous' ? space.shape[0] : 1;
    const actions = space.kind === 'continuous' ? new Float32Array(episodes.length * n * d) : new Int32Array(episodes.length * n);
    for (let t = 0; t < numSteps; t++) {
      episodes.forEach((ep, e) => {
        const acts = ep.steps[t]?.actions ?? new Array(n).fill(space.kind === 'continuous' ? new Array(d).fill(0) : 0);
        for (let i = 0; i < n; i++) {
          const a = acts[i];
          if (typeof a === 'number') actions[e * n + i] = a;
          else for (let c = 0; c < d; c++) actions[(e * n + i) * d + c] = a[c];
        }
      });
      const result = world.step(actions);
      episodes.forEach((ep, e) => {
        const ref = ep.steps[t];
        if (!ref) return;
        totalSteps++;
        const step = t + 1;
        const at = (agent: number, index: number) => ({ episode: indices[e], seed: ep.seed, step, agent: agents[agent] ?? '-', index });
        compareObs(e, step, ref.obs, ref.obs_f64);
        const snap = parseParticleSnapshot(world.id, world.snapshot(e));
        for (let i = 0; i < n; i++) {
          note({ ...at(i, 0), quantity: 'reward', expected: ref.rewards[i], actual: result.rewards[e * n + i] }, CONFORMANCE_TOLERANCE.reward);
          for (let c = 0; c < 2; c++) {
            note({ ...at(i, c), quantity: 'pos', expected: ref.agent_pos[i][c], actual: snap.agentPos[i][c] }, CONFORMANCE_TOLERANCE.pos);
            note({ ...at(i, c), quantity: 'vel', expected: ref.agent_vel[i][c], actual: snap.agentVel[i][c] }, CONFORMANCE_TOLERANCE.vel);
          }
          if (ref.agent_action_u) {
            const u = world.actionForce(e, i)!;
            for (let c = 0; c < 2; c++) note({ ...at(i, c), quantity: 'action_u', expected: ref.agent_action_u[i][c], actual: u[c] }, CONFORMANCE_TOLERANCE.action_u);
          }
          note({ ...at(i, 0), quantity: 'truncated', expected: ref.truncated ? 1 : 0, actual: result.truncations[e * n + i] }, 0);
          note({ ...at(i, 0), quantity: 'terminated', expected: ref.terminated ? 1 : 0, actual: result.terminations[e * n + i] }, 0);
        }
        if (sizes) {
          const refPairs = countOverlaps(ref.agent_pos, sizes, world.roles, worldId);
          const quantity = worldId === 'simple_spread_v3' ? 'collisions' : 'catches';
          note({ ...at(-1, 0), quantity, expected: refPairs, actual: result.infos[quantity][e] }, 0);
        }
        if (worldId === 'simple_tag_v3' && ref.agent_force) {
          const prevVel = t === 0 ? ep.initial.agent_vel : ep.steps[t - 1].agent_vel;
          const refClamps = countClamps(prevVel, ref.agent_force, maxSpeeds);
          note({ ...at(-1, 0), quantity: 'speed_clamps', expected: refClamps, actual: result.infos.speed_clamps[e] }, 0);
        }
      });
    }
  }

  const report: ConformanceReport = {
    world: worldId,
    episodes: vectors.episodes.length,
    steps: totalSteps,
    max_abs_err: maxErr,
    discrete_mismatches: mismatches,
    tolerance: CONFORMANCE_TOLERANCE,
    pass: first === undefined,
  };
  if (first) report.first_failure = first;
  return report;
}

function checkShapes(ep: Episode, index: number, agents: readonly string[], obsDims: number[], actionSize: number | null): void {
  const where = `episodes[${index}] (seed ${ep.seed})`;
  if (ep.agents.join(',') !== agents.join(',')) {
    throw new ConformanceFormatError(`${where}: agents are [${ep.agents.join(', ')}], the world has [${agents.join(', ')}]`);
  }
  const checkObs = (what: string, obs: number[][]) => {
    obs.forEach((row, i) => {
      if (row.length !== obsDims[i]) throw new ConformanceFormatError(`${where}: ${what}[${i}] has ${row.length} values, ${agents[i]} observes ${obsDims[i]}`);
    });
    if (obs.length !== agents.length) throw new ConformanceFormatError(`${where}: ${what} has ${obs.length} rows for ${agents.length} agents`);
  };
  checkObs('initial.obs', ep.initial.obs);
  checkObs('initial.obs_f64', ep.initial.obs_f64);
  ep.steps.forEach((s, t) => {
    if (s.actions.length !== agents.length) throw new ConformanceFormatError(`${where}: steps[${t}].actions has ${s.actions.length} entries for ${agents.length} agents`);
    for (const [i, a] of s.actions.entries()) {
      const continuous = typeof a !== 'number';
      if (continuous !== (actionSize !== null)) throw new ConformanceFormatError(`${where}: steps[${t}].actions[${i}] is ${continuous ? 'a vector' : 'a number'}, the world (env_kwargs ${JSON.stringify(ep.env_kwargs)}) takes ${actionSize === null ? 'discrete' : 'continuous'} actions`);
      if (continuous && a.length !== actionSize) throw new ConformanceFormatError(`${where}: steps[${t}].actions[${i}] has ${a.length} components, the action box has ${actionSize}`);
    }
    if (s.rewards.length !== agents.length) throw new ConformanceFormatError(`${where}: steps[${t}].rewards has ${s.rewards.length} entries for ${agents.length} agents`);
    if (s.agent_pos.length !== agents.length || s.agent_vel.length !== agents.length) {
      throw new ConformanceFormatError(`${where}: steps[${t}] positions/velocities do not cover ${agents.length} agents`);
    }
    checkObs(`steps[${t}].obs`, s.obs);
    checkObs(`steps[${t}].obs_f64`, s.obs_f64);
  });
}

/** Reference outcome count from the recorded positions: spread agent pairs overlapping, tag (prey, adversary) contacts. */
function countOverlaps(pos: [number, number][], sizes: number[], roles: readonly string[], worldId: string): number {
  let count = 0;
  for (let a = 0; a < pos.length; a++) {
    for (let b = a + 1; b < pos.length; b++) {
      if (worldId === 'simple_tag_v3' && (roles[a] === 'adversary') === (roles[b] === 'adversary')) continue;
      const dx = pos[a][0] - pos[b][0];
      const dy = pos[a][1] - pos[b][1];
      if (Math.sqrt(dx * dx + dy * dy) < sizes[a] + sizes[b]) count++;
    }
  }
  return count;
}

/** Reference speed clamps: agents whose pre-clamp velocity 0.75·v + f·dt exceeded their limit. */
function countClamps(prevVel: [number, number][], force: [number, number][], maxSpeeds: (number | null)[]): number {
  let count = 0;
  prevVel.forEach(([vx, vy], i) => {
    const limit = maxSpeeds[i];
    if (limit === null || limit === undefined) return;
    const nx = vx * 0.75 + force[i][0] * 0.1;
    const ny = vy * 0.75 + force[i][1] * 0.1;
    if (Math.sqrt(nx * nx + ny * ny) > limit) count++;
  });
  return count;
}

