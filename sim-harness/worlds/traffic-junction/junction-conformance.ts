// Replays reference trajectories recorded from IC3Net's own traffic-junction code
// ("ic3net-traffic-junction-trajectories/1", test/fixtures/traffic_junction/README.md) through
// our core, feeding it the recorded random draws (the README's mode B): the core must ask for the
// same draws (the same dead-slot lists and path counts, in the same order) and reproduce every
// state, observation, reward, collision flag, alive mask, info field and stat exactly.

import { z } from 'zod';
import { BatchedWorld } from '../batched-world.js';
import { TrafficJunctionCore, type ArrivalDraws } from './traffic-junction.js';

export const JUNCTION_VECTORS_FORMAT = 'ic3net-traffic-junction-trajectories/1';

const int = z.number().int();
const cell = z.tuple([int, int]);
const draw = z.union([z.tuple([z.literal('uniform'), z.number()]), z.tuple([z.literal('choice'), z.union([int, z.array(int)]), int])]);
/** a car's observation: [act, route, V], V dense ([dy][dx][channel]) or sparse ([dy, dx, channel, value] entries) */
const carObs = z.tuple([z.number(), z.number(), z.array(z.array(z.any()))]);
const stateSchema = z.object({
  alive: z.array(int), loc: z.array(cell), route_id: z.array(int), route_loc: z.array(int),
  last_act: z.array(int), wait: z.array(int), cars_in_sys: int, has_failed: int,
});
const statSchema = z.object({ success: int.optional(), add_rate: z.number().optional() });

const vectorsSchema = z.object({
  format: z.literal(JUNCTION_VECTORS_FORMAT),
  difficulty: z.enum(['easy', 'medium', 'hard']),
  settings: z.object({
    nagents: int.positive(), dim: int, max_steps: int.positive(), vision: int.nonnegative(),
    add_rate_min: z.number(), add_rate_max: z.number(), curr_start: int, curr_end: int,
  }),
  constants: z.object({ vocab_size: int, npath: int, grid_shape: z.tuple([int, int]) }).passthrough(),
  grid: z.array(z.array(int)),
  routes: z.array(z.array(z.array(cell))),
  obs_encoding: z.enum(['dense', 'sparse']),
  episodes: z.array(z.object({
    index: int,
    env_seed: int,
    initial_obs: z.array(carObs),
    steps: z.array(z.object({
      t: int,
      state: stateSchema,
      actions: z.array(int),
      rng: z.array(draw),
      obs: z.array(carObs),
      reward: z.array(z.number()),
      collision: z.array(int),
      info: z.object({ alive_mask: z.array(int), is_completed: z.array(int), wait: z.array(int), cars_in_sys: int, car_loc: z.array(cell) }),
      done: z.boolean(),
      stat: statSchema,
    })).min(1),
    final_state: stateSchema,
    final_stat: z.object({ env_stat: statSchema }).passthrough(),
  })).min(1),
});

export type JunctionVectors = z.infer<typeof vectorsSchema>;

/** Everything is compared exactly: each quantity counts its mismatches. */
export const JUNCTION_QUANTITIES = [
  'grid', 'routes', 'draws', 'state', 'obs', 'reward', 'world_reward', 'collision', 'alive_mask', 'is_completed', 'wait', 'cars_in_sys', 'car_loc', 'done', 'stat',
] as const;
type Quantity = (typeof JUNCTION_QUANTITIES)[number];

export interface JunctionMismatch {
  episode: number;
  env_seed: number;
  /** the step (-1: after reset, or the map) */
  step: number;
  quantity: Quantity;
  /** the car slot or element, where there is one */
  index: number;
  expected: unknown;
  actual: unknown;
}

export interface JunctionConformanceReport {
  world: 'traffic_junction_v0';
  difficulty: string;
  episodes: number;
  steps: number;
  mismatches: Record<Quantity, number>;
  pass: boolean;
  first_mismatch?: JunctionMismatch;
}

export class JunctionVectorsError extends Error {
  readonly code = 'FM_ERR_VECTORS';
  override readonly name = 'JunctionVectorsError';
}

export function parseJunctionVectors(data: unknown): JunctionVectors {
  const parsed = vectorsSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new JunctionVectorsError(`not a ${JUNCTION_VECTORS_FORMAT} file: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** The recorded draws of one step, handed out in order; asking for anything else is a mismatch. */
class RecordedDraws implements ArrivalDraws {
  private queue: z.infer<typeof draw>[] = [];
  problem: { expected: unknown; actual: unknown } | null = null;

  load(draws: z.infer<typeof draw>[]): void {
    this.queue = [...draws];
    this.problem = null;
  }

  get left(): number {
    return this.queue.length;
  }

  uniform(): number {
    const next = this.queue.shift();
    if (next?.[0] !== 'uniform') return this.fail(next ?? 'no draw', 'uniform()', 1);
    return next[1];
  }

  choice(options: readonly number[]): number {
    const next = this.queue.shift();
    const asked = `choice(${JSON.stringify(options)})`;
    if (next?.[0] !== 'choice') return this.fail(next ?? 'no draw', asked, options[0]);
    // numpy's choice(n) picks from range(n): the paths of an arrival point are recorded as their count
    const recorded = typeof next[1] === 'number' ? Array.from({ length: next[1] }, (_, k) => k) : next[1];
    if (JSON.stringify(recorded) !== JSON.stringify(options)) return this.fail(next, asked, next[2]);
    return next[2];
  }

  private fail(expected: unknown, actual: string, fallback: number): number {
    this.problem ??= { expected, actual };
    this.queue = [];
    return fallback;
  }
}

/** A car's observation flattened as IC3Net's trainer does: [act, route, ...V row-major]. */
function flattenObservation(o: z.infer<typeof carObs>, encoding: 'dense' | 'sparse', side: number, vocab: number): number[] {
  const [act, route, v] = o;
  if (encoding === 'dense') return [act, route, ...(v.flat(2) as number[])];
  const out = new Array<number>(2 + side * side * vocab).fill(0);
  out[0] = act;
  out[1] = route;
  for (const [dy, dx, channel, value] of v as number[][]) out[2 + (dy * side + dx) * vocab + channel] = value;
  return out;
}

export function replayJunctionVectors(vectors: JunctionVectors): JunctionConformanceReport {
  const s = vectors.settings;
  const mismatches = Object.fromEntries(JUNCTION_QUANTITIES.map((q) => [q, 0])) as Record<Quantity, number>;
  let first: JunctionMismatch | undefined;
  const note = (m: JunctionMismatch) => {
    mismatches[m.quantity]++;
    first ??= m;
  };
  const config = {
    difficulty: vectors.difficulty, N: s.nagents, vision: s.vision, maxCycles: s.max_steps,
    addRateMin: s.add_rate_min, addRateMax: s.add_rate_max, currStart: s.curr_start, currEnd: s.curr_end,
  };
  const n = s.nagents;
  let steps = 0;

  // the map: every cell's id and every route, in IC3Net's order
  const map = new TrafficJunctionCore(1, config).map;
  vectors.grid.forEach((row, r) => row.forEach((id, c) => {
    if (map.classes[r * map.size + c] !== id) note({ episode: -1, env_seed: 0, step: -1, quantity: 'grid', index: r * map.size + c, expected: id, actual: map.classes[r * map.size + c] });
  }));
  const ours = map.routes.map((paths) => paths.map((p) => Array.from(p, (cell) => [Math.floor(cell / map.size), cell % map.size])));
  if (JSON.stringify(ours) !== JSON.stringify(vectors.routes)) note({ episode: -1, env_seed: 0, step: -1, quantity: 'routes', index: 0, expected: vectors.routes, actual: ours });

  for (const [e, episode] of vectors.episodes.entries()) {
    const core = new TrafficJunctionCore(1, config);
    const world = new BatchedWorld(core, { numEnvs: 1, autoReset: false });
    const side = 2 * core.vision + 1;
    const flat = (o: z.infer<typeof carObs>) => flattenObservation(o, vectors.obs_encoding, side, map.vocabSize);
    const at = (step: number) => ({ episode: e, env_seed: episode.env_seed, step });
    const compareObservations = (step: number, expected: z.infer<typeof carObs>[]) => {
      const actual = world.observationsF64();
      for (let i = 0; i < n; i++) {
        const want = flat(expected[i]);
        const k = want.findIndex((x, j) => x !== actual[i][j]);
        if (k >= 0) note({ ...at(step), quantity: 'obs', index: i, expected: `car ${i} [${k}] = ${want[k]}`, actual: actual[i][k] });
      }
    };
    const compareState = (step: number, expected: z.infer<typeof stateSchema>) => {
      const snap = core.snapshot(0);
      const actual = {
        alive: snap.alive, loc: snap.loc, route_id: snap.routeId, route_loc: snap.routeLoc, last_act: snap.lastAct, wait: snap.wait,
        cars_in_sys: core.carsInSystem(0), has_failed: snap.hasFailed,
      };
      for (const key of Object.keys(actual) as (keyof typeof actual)[]) {
        if (JSON.stringify(actual[key]) !== JSON.stringify(expected[key])) note({ ...at(step), quantity: 'state', index: -1, expected: `${key} ${JSON.stringify(expected[key])}`, actual: JSON.stringify(actual[key]) });
      }
    };
    const draws = new RecordedDraws();
    world.reset(0);
    core.useDraws(0, draws);
    compareObservations(-1, episode.initial_obs);
    const coreRewards = new Float64Array(n);
    for (const step of episode.steps) {
      steps++;
      compareState(step.t, step.state);
      const wasActive = Uint8Array.from(world.active);
      draws.load(step.rng);
      const result = world.step(Int32Array.from(step.actions));
      if (draws.problem || draws.left > 0) {
        note({ ...at(step.t), quantity: 'draws', index: -1, expected: draws.problem?.expected ?? `${draws.left} more draws`, actual: draws.problem?.actual ?? 'no more asked' });
      }
      compareObservations(step.t, step.obs);
      core.rewards(0, coreRewards, 0);
      const info = step.info;
      for (let i = 0; i < n; i++) {
        const cmp = (quantity: Quantity, expected: unknown, actual: unknown) => {
          if (JSON.stringify(expected) !== JSON.stringify(actual)) note({ ...at(step.t), quantity, index: i, expected, actual });
        };
        // IC3Net writes -0 for dead cars (README: stored as 0): compare with ===, not Object.is
        if (!(coreRewards[i] === step.reward[i])) note({ ...at(step.t), quantity: 'reward', index: i, expected: step.reward[i], actual: coreRewards[i] });
        // the world contract: a car that was not on the road during the step is rewarded nothing for it
        const worldReward = wasActive[i] ? step.reward[i] : 0;
        if (!(result.rewards[i] === worldReward)) note({ ...at(step.t), quantity: 'world_reward', index: i, expected: worldReward, actual: result.rewards[i] });
        cmp('collision', step.collision[i], core.crashedNow(0, i) ? 1 : 0);
        cmp('alive_mask', info.alive_mask[i], result.active[i]);
        cmp('is_completed', info.is_completed[i], core.completedNow(0, i) ? 1 : 0);
        cmp('wait', info.wait[i], core.snapshot(0).wait[i]);
        cmp('car_loc', info.car_loc[i], core.snapshot(0).loc[i]);
        cmp('done', step.done, result.terminations[i] === 1);
      }
      if (info.cars_in_sys !== core.carsInSystem(0)) note({ ...at(step.t), quantity: 'cars_in_sys', index: -1, expected: info.cars_in_sys, actual: core.carsInSystem(0) });
      const stat = { success: result.infos.success[0], add_rate: result.infos.add_rate[0] };
      if (stat.success !== step.stat.success || stat.add_rate !== step.stat.add_rate) note({ ...at(step.t), quantity: 'stat', index: -1, expected: step.stat, actual: stat });
    }
    compareState(episode.steps.length, episode.final_state);
    const finalStat = episode.final_stat.env_stat;
    if (finalStat.success !== 1 - core.snapshot(0).hasFailed) {
      note({ ...at(episode.steps.length), quantity: 'stat', index: -1, expected: finalStat, actual: { success: 1 - core.snapshot(0).hasFailed } });
    }
  }
  const pass = Object.values(mismatches).every((m) => m === 0);
  return { world: 'traffic_junction_v0', difficulty: vectors.difficulty, episodes: vectors.episodes.length, steps, mismatches, pass, ...(first ? { first_mismatch: first } : {}) };
}
