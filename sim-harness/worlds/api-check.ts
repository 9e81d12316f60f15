// parallelApiCheck: the contract every fleetmind world must keep (PettingZoo's
// parallel_api_test, for batched worlds). Throws a WorldError naming the first violation.

import { randomController } from './controllers/random.js';
import { WorldError, type World } from './types.js';

function fail(world: World, what: string): never {
  throw new WorldError(`${world.id} breaks the world contract: ${what}`);
}

function allFinite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/** makeWorld must return a fresh world each call (the check compares two for determinism). */
export function parallelApiCheck(makeWorld: () => World, seed = 7): void {
  const world = makeWorld();
  const e = world.numEnvs;
  const agents = world.possibleAgents;
  const n = agents.length;
  if (n === 0) fail(world, 'possibleAgents is empty');
  if (new Set(agents).size !== n) fail(world, 'agent names are not unique');
  if (world.agents.some((a) => !agents.includes(a))) fail(world, 'agents (those taking part now) must be some of possibleAgents');
  if (world.roles.length !== n) fail(world, `roles has ${world.roles.length} entries for ${n} agents`);
  const obsDims = agents.map((a) => world.observationSpace(a).shape[0]);
  agents.forEach((a, i) => {
    if (!Number.isInteger(obsDims[i]) || obsDims[i] < 1) fail(world, `observation space of ${a} has size ${obsDims[i]}`);
    if (world.observationSpace(i).shape[0] !== obsDims[i]) fail(world, `observationSpace(${i}) differs from observationSpace("${a}")`);
    const space = world.actionSpace(a);
    if (space.kind === 'discrete' && !(space.n >= 1)) fail(world, `action space of ${a} is empty`);
    if (space.kind === 'continuous') {
      if (!(space.shape[0] >= 1) || space.low.length !== space.shape[0] || space.high.length !== space.shape[0]) fail(world, `action box of ${a} has shape ${space.shape[0]} with ${space.low.length} lows and ${space.high.length} highs`);
      if (space.low.some((lo, k) => !(lo <= space.high[k]))) fail(world, `action box of ${a} has a low above its high`);
    }
    if (space.kind !== world.actionSpace(0).kind || (space.kind === 'continuous' && space.shape[0] !== (world.actionSpace(0) as typeof space).shape[0])) {
      fail(world, 'agents mix discrete and continuous actions, or continuous ones of different lengths');
    }
  });

  const checkObservations = (obs: Float32Array[], when: string) => {
    if (obs.length !== n) fail(world, `${when}: ${obs.length} observation arrays for ${n} agents`);
    obs.forEach((o, i) => {
      if (!(o instanceof Float32Array) || o.length !== e * obsDims[i]) fail(world, `${when}: observation of ${agents[i]} is not a Float32Array of ${e}×${obsDims[i]}`);
      if (!allFinite(o)) fail(world, `${when}: observation of ${agents[i]} is not finite`);
    });
  };

  const first = world.reset(seed);
  checkObservations(first.observations, 'reset');
  const state = world.state();
  if (state.length !== e * world.stateSize || !allFinite(state)) fail(world, `state() is not ${e}×${world.stateSize} finite values`);

  const twin = makeWorld();
  twin.reset(seed);
  const policy = randomController(world, seed);
  const space0 = world.actionSpace(0);
  const actions = space0.kind === 'discrete' ? new Int32Array(e * n) : new Float32Array(e * n * space0.shape[0]);
  let ended = 0;
  for (let t = 0; t < world.maxCycles + 1; t++) {
    policy.act(first.observations, actions);
    const r = world.step(actions);
    const r2 = twin.step(actions);
    checkObservations(r.observations, `step ${t + 1}`);
    if (r.rewards.length !== e * n || !allFinite(r.rewards)) fail(world, `step ${t + 1}: rewards are not ${e}×${n} finite values`);
    if (r.terminations.length !== e * n || r.truncations.length !== e * n) fail(world, `step ${t + 1}: terminations/truncations are not ${e}×${n}`);
    if (r.episodeEnded.length !== e) fail(world, `step ${t + 1}: episodeEnded is not [${e}]`);
    if (!(r.active instanceof Uint8Array) || r.active.length !== e * n || r.active.some((a) => a !== 0 && a !== 1)) fail(world, `step ${t + 1}: active is not a Uint8Array of ${e}×${n} zeros and ones`);
    for (const key of world.infoKeys) {
      if (!(r.infos[key] instanceof Float64Array) || r.infos[key].length !== e) fail(world, `step ${t + 1}: infos.${key} is not a Float64Array of ${e}`);
    }
    for (let k = 0; k < e * n; k++) {
      if (r.rewards[k] !== r2.rewards[k]) fail(world, `step ${t + 1}: two worlds reset with seed ${seed} disagree (not deterministic)`);
    }
    for (let env = 0; env < e; env++) ended += r.episodeEnded[env];
  }
  if (ended < e) fail(world, `not every env ended its episode within maxCycles = ${world.maxCycles} steps`);

  // snapshot → JSON → setState reproduces the observations exactly (checkpoints store it as JSON)
  let snap: ReturnType<World['snapshot']>;
  try {
    snap = JSON.parse(JSON.stringify(world.snapshot(0)));
  } catch (err) {
    fail(world, `snapshot(0) is not JSON-serialisable: ${(err as Error).message}`);
  }
  const before = first.observations.map((o, i) => Array.from(o.subarray(0, obsDims[i])));
  twin.setState(0, snap);
  const after = twin.reset(seed + 1).observations;
  twin.setState(0, snap);
  after.forEach((o, i) => {
    for (let j = 0; j < obsDims[i]; j++) if (o[j] !== before[i][j]) fail(world, `setState(snapshot(0)) does not reproduce ${agents[i]}'s observation`);
  });

  // a discrete action out of range, or a NaN component of a continuous one, is refused
  let rejected = false;
  try {
    world.step(space0.kind === 'discrete' ? new Int32Array(e * n).fill(space0.n) : new Float32Array(e * n * space0.shape[0]).fill(Number.NaN));
  } catch (err) {
    rejected = err instanceof WorldError;
  }
  if (!rejected) fail(world, space0.kind === 'discrete' ? 'an out-of-range action was accepted' : 'a NaN action was accepted');
}
