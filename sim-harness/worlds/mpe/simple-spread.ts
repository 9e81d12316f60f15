// simple_spread_v3 (PettingZoo 1.25 / MPE2): N agents cover N landmarks and avoid each other.
//
// reward_i = 0.5 · global + 0.5 · local_i, where global = −Σ_landmarks min_agents dist and
// local_i = −#{other agents overlapping i}. Landmarks do not collide. With teamReward, each agent
// is rewarded the mean of those.

import type { Rng } from '../rng.js';
import type { Actions, ActionSpace, WorldPositions, WorldSnapshot } from '../types.js';
import { writeConcatenatedObservations, type NumberArray, type WorldCore } from '../batched-world.js';
import { lastActionForce, mpeActionSpace, ParticleWorld, type EntitySpec, type Integration } from './particle-world.js';
import { particlePositions, setParticles, snapshotParticles, type ParticleSnapshot } from './particle-state.js';
import { SpatialGrid } from './spatial-grid.js';
import { SensorDropout } from './sensor-dropout.js';

export interface SimpleSpreadOptions {
  /** number of agents and of landmarks (default 3) */
  N?: number;
  /** weight of the per-agent collision term against the shared coverage term (default 0.5) */
  localRatio?: number;
  /** episode length (default 25) */
  maxCycles?: number;
  /** PettingZoo's continuous_actions: Box(0, 1, (5,)) pushes instead of Discrete(5) */
  continuousActions?: boolean;
  /**
   * Large fleets: observe only the k nearest landmarks and the k nearest other agents, nearest
   * first (as MPE2's num_landmark_neighbors / num_agent_neighbors). Default: all of them, in
   * index order — exactly PettingZoo's observation.
   */
  neighbours?: number;
  /**
   * Partial observability: at each step, each agent's sensing of the landmarks and the other
   * agents is lost with this probability (those fields read 0, and a last field `sensed` reads 0
   * instead of 1); its own position and velocity are always observed. The centralized critic's
   * state is never blanked. Default 0: PettingZoo's observation, without the `sensed` field.
   */
  sensorDropout?: number;
  /**
   * landmarks start uniformly in [−r, r]² (default 1, PettingZoo's; the MAPPO paper's code,
   * onpolicy/envs/mpe/scenarios/simple_spread.py, uses 0.8). Agents always start in [−1, 1]²
   */
  landmarkRange?: number;
  /**
   * every agent is rewarded the team's mean reward, where PettingZoo rewards each its own (the
   * MAPPO paper's code, onpolicy/envs/mpe/environment.py, gives each the team's sum: N times this).
   * The team's return, and so the mean return per agent, is the same either way (default false)
   */
  teamReward?: boolean;
  /**
   * the order of a physics step (default 'pettingzoo', MPE2's: the position moves with the
   * velocity the step began with); 'original' is the original MPE's core.py, which the MAPPO
   * paper's code runs: the velocity first, and the position moves with the new one
   */
  integration?: Integration;
}

const AGENT: EntitySpec = { size: 0.15, mass: 1.0, movable: true, collide: true, maxSpeed: null, sensitivity: 5.0 };
const LANDMARK: EntitySpec = { size: 0.05, mass: 1.0, movable: false, collide: false, maxSpeed: null, sensitivity: 5.0 };
/** an agent within this distance of a landmark occupies it (outcome metric) */
const OCCUPIED_DISTANCE = 0.1;
/** from this many agents on, nearest-neighbour and collision questions go through a spatial grid (the same answers) */
const GRID_MIN_AGENTS = 32;

/** One env's grids over its agents and its landmarks, rebuilt when the positions have moved. */
interface EnvGrids {
  agents: SpatialGrid;
  landmarks: SpatialGrid;
  fresh: boolean;
}

/** What both the rewards and the infos of a step read, measured once after the positions moved. */
interface EnvMeasures {
  /** per landmark, the distance of the agent nearest to it */
  nearestAgent: Float64Array;
  /** per agent, how many other agents overlap it */
  overlaps: Int32Array;
  fresh: boolean;
}

export class SimpleSpreadCore implements WorldCore {
  readonly id = 'simple_spread_v3';
  readonly numEnvs: number;
  readonly possibleAgents: readonly string[];
  readonly roles: readonly string[];
  readonly obsDims: readonly number[];
  readonly actionSpaces: readonly ActionSpace[];
  private readonly continuous: boolean;
  readonly maxCycles: number;
  readonly stateSize: number;
  readonly infoKeys = ['occupied_landmarks', 'collisions'] as const;
  readonly physics: ParticleWorld;
  private readonly n: number;
  private readonly localRatio: number;
  /** k nearest landmarks and agents observed, or null: all in index order */
  private readonly k: number | null;
  private readonly nearest: { index: Int32Array; dist: Float64Array };
  /** per env, for large N (null: every question scans every particle) */
  private readonly grids: EnvGrids[] | null;
  private readonly measures: EnvMeasures[];
  /** null: every frame arrives (PettingZoo's observation) */
  private readonly sensors: SensorDropout | null;
  private readonly landmarkRange: number;
  private readonly teamReward: boolean;

  constructor(numEnvs: number, options: SimpleSpreadOptions = {}) {
    const n = options.N ?? 3;
    this.n = n;
    this.numEnvs = numEnvs;
    this.localRatio = options.localRatio ?? 0.5;
    this.maxCycles = options.maxCycles ?? 25;
    this.possibleAgents = Array.from({ length: n }, (_, i) => `agent_${i}`);
    this.roles = this.possibleAgents.map(() => 'agent');
    this.k = options.neighbours ?? null;
    if (this.k !== null && this.k > n - 1) throw new Error(`neighbours ${this.k} must be at most N - 1 = ${n - 1}`);
    const landmarksSeen = this.k ?? n;
    const agentsSeen = this.k ?? n - 1;
    this.nearest = { index: new Int32Array(n), dist: new Float64Array(n) };
    this.landmarkRange = options.landmarkRange ?? 1;
    this.teamReward = options.teamReward ?? false;
    const dropout = options.sensorDropout ?? 0;
    this.sensors = dropout > 0 ? new SensorDropout(numEnvs, dropout) : null;
    const obsDim = 4 + 2 * landmarksSeen + 2 * agentsSeen + 2 * agentsSeen + (this.sensors ? 1 : 0);
    this.obsDims = this.possibleAgents.map(() => obsDim);
    this.continuous = options.continuousActions ?? false;
    this.actionSpaces = this.possibleAgents.map(() => mpeActionSpace(this.continuous));
    this.stateSize = n * obsDim;
    const specs = [...Array(n).fill(AGENT), ...Array(n).fill(LANDMARK)];
    this.physics = new ParticleWorld(numEnvs, n, specs, undefined, { integration: options.integration });
    this.grids = n >= GRID_MIN_AGENTS ? Array.from({ length: numEnvs }, () => ({ agents: new SpatialGrid(0, n), landmarks: new SpatialGrid(n, n), fresh: false })) : null;
    this.measures = Array.from({ length: numEnvs }, () => ({ nearestAgent: new Float64Array(n), overlaps: new Int32Array(n), fresh: false }));
  }

  resetEnv(e: number, rng: Rng): void {
    const { pos, vel, numEntities: m } = this.physics;
    for (let i = 0; i < m; i++) {
      const j = (e * m + i) * 2;
      // (the same draws whatever the range: a landmark's are scaled, as the MAPPO code's are)
      const range = i < this.n ? 1 : this.landmarkRange;
      pos[j] = range * rng.uniform(-1, 1);
      pos[j + 1] = range * rng.uniform(-1, 1);
      vel[j] = 0;
      vel[j + 1] = 0;
    }
    this.sensors?.startEpisode(e, rng);
    this.moved(e);
  }

  stepPhysics(actions: Actions): void {
    this.physics.step(actions, this.continuous);
    this.sensors?.stepped();
    for (let e = 0; e < this.numEnvs; e++) this.moved(e);
  }

  actionForce(e: number, agent: number): [number, number] {
    return lastActionForce(this.physics, e, agent);
  }

  rewards(e: number, out: Float64Array, offset: number): boolean {
    const n = this.n;
    const { nearestAgent, overlaps } = this.measure(e);
    let global = 0;
    for (let l = 0; l < n; l++) global -= nearestAgent[l];
    for (let i = 0; i < n; i++) {
      const local = 0 - overlaps[i]; // (+0 with none, as the loop it replaces gave)
      out[offset + i] = global * (1 - this.localRatio) + local * this.localRatio;
    }
    if (this.teamReward) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += out[offset + i];
      out.fill(sum / n, offset, offset + n);
    }
    return false;
  }

  observationFields(agent: number): string[] {
    return this.sensors ? [...this.sensedFields(agent), 'sensed'] : this.sensedFields(agent);
  }

  /** the fields of a whole observation (before sensor dropout's `sensed`) */
  private sensedFields(agent: number): string[] {
    if (this.k !== null) {
      const near = Array.from({ length: this.k }, (_, j) => j);
      return [
        ...xy('self_vel'), ...xy('self_pos'),
        ...near.flatMap((j) => xy(`landmark_near_${j}_rel`)),
        ...near.flatMap((j) => xy(`agent_near_${j}_rel`)),
        ...near.flatMap((j) => [`agent_near_${j}_comm.0`, `agent_near_${j}_comm.1`]),
      ];
    }
    const others = this.possibleAgents.filter((_, a) => a !== agent);
    return [
      ...xy('self_vel'), ...xy('self_pos'),
      ...Array.from({ length: this.n }, (_, l) => xy(`landmark_${l}_rel`)).flat(),
      ...others.flatMap((name) => xy(`${name}_rel`)),
      ...others.flatMap((name) => [`${name}_comm.0`, `${name}_comm.1`]),
    ];
  }

  observe(e: number, agent: number, out: NumberArray, offset: number): void {
    this.observeAll(e, agent, out, offset);
    if (!this.sensors?.lost(e, agent)) return;
    // a lost frame: what the agent senses of the others (after its own velocity and position), and `sensed`
    out.fill(0, offset + 4, offset + this.obsDims[agent]);
  }

  /** agent i's observation with its frame sensed (`sensed` = 1 under sensor dropout): the critic's state reads these */
  private observeAll(e: number, agent: number, out: NumberArray, offset: number): void {
    if (this.sensors) out[offset + this.obsDims[agent] - 1] = 1;
    const n = this.n;
    const m = 2 * n;
    const pos = this.physics.pos;
    const vel = this.physics.vel;
    const me = (e * m + agent) * 2;
    const px = pos[me];
    const py = pos[me + 1];
    let k = offset;
    out[k++] = vel[me];
    out[k++] = vel[me + 1];
    out[k++] = px;
    out[k++] = py;
    if (this.k !== null) {
      for (const first of [n, 0]) { // landmarks, then the other agents
        const count = this.kNearest(e, agent, first, first + n);
        for (let j = 0; j < count; j++) {
          const q = (e * m + this.nearest.index[j]) * 2;
          out[k++] = pos[q] - px;
          out[k++] = pos[q + 1] - py;
        }
      }
      for (let c = 0; c < 2 * this.k; c++) out[k++] = 0;
      return;
    }
    for (let l = 0; l < n; l++) {
      const j = (e * m + n + l) * 2;
      out[k++] = pos[j] - px;
      out[k++] = pos[j + 1] - py;
    }
    for (let a = 0; a < n; a++) {
      if (a === agent) continue;
      const j = (e * m + a) * 2;
      out[k++] = pos[j] - px;
      out[k++] = pos[j + 1] - py;
    }
    // the other agents' communication channels: silent agents, always zero
    for (let c = 0; c < 2 * (n - 1); c++) out[k++] = 0;
  }

  writeInfos(e: number, infos: Record<string, Float64Array>): void {
    const n = this.n;
    const { nearestAgent, overlaps } = this.measure(e);
    let occupied = 0;
    for (let l = 0; l < n; l++) if (nearestAgent[l] < OCCUPIED_DISTANCE) occupied++;
    let overlapping = 0;
    for (let a = 0; a < n; a++) overlapping += overlaps[a];
    const collisions = overlapping / 2; // each colliding pair, counted from both sides
    infos.occupied_landmarks[e] = occupied;
    infos.collisions[e] = collisions;
  }

  writeState(e: number, out: Float32Array, offset: number): void {
    writeConcatenatedObservations(this, e, out, offset, (env, agent, o, at) => this.observeAll(env, agent, o, at));
  }

  snapshot(e: number): ParticleSnapshot {
    const particles = snapshotParticles(this.physics, e);
    return this.sensors ? { ...particles, sensor: this.sensors.snapshot(e) } : particles;
  }

  positions(e: number): WorldPositions {
    return particlePositions(this.physics, e);
  }

  setState(e: number, snapshot: WorldSnapshot): void {
    setParticles(this.id, this.physics, e, snapshot);
    this.sensors?.restore(this.id, e, snapshot.sensor);
    this.moved(e);
  }

  /** env e's positions changed: its grids and measures are to be made again */
  private moved(e: number): void {
    if (this.grids) this.grids[e].fresh = false;
    this.measures[e].fresh = false;
  }

  /** env e's measures, made from the positions as they are now */
  private measure(e: number): EnvMeasures {
    const m = this.measures[e];
    if (!m.fresh) {
      for (let l = 0; l < this.n; l++) m.nearestAgent[l] = this.nearestAgentDistance(e, this.n + l);
      for (let i = 0; i < this.n; i++) m.overlaps[i] = this.collisionsWith(e, i);
      m.fresh = true;
    }
    return m;
  }

  /** The k entities in [from, to) nearest to `agent` (itself excluded) into this.nearest, nearest first (ties: the lower index). */
  private kNearest(e: number, agent: number, from: number, to: number): number {
    const k = this.k!;
    const { index, dist } = this.nearest;
    const grids = this.envGrids(e);
    if (grids) {
      const [px, py] = this.at(e, agent);
      return (from === 0 ? grids.agents : grids.landmarks).nearest(px, py, k, agent, index, dist);
    }
    let count = 0;
    for (let q = from; q < to; q++) {
      if (q === agent) continue;
      const d = this.physics.distance(e, agent, q);
      if (count === k && d >= dist[k - 1]) continue;
      let j = count < k ? count++ : k - 1;
      while (j > 0 && dist[j - 1] > d) { dist[j] = dist[j - 1]; index[j] = index[j - 1]; j--; }
      dist[j] = d;
      index[j] = q;
    }
    return count;
  }

  private nearestAgentDistance(e: number, landmark: number): number {
    const grids = this.envGrids(e);
    if (grids) {
      const [px, py] = this.at(e, landmark);
      const { index, dist } = this.nearest;
      grids.agents.nearest(px, py, 1, -1, index, dist);
      return dist[0];
    }
    let best = Infinity;
    for (let a = 0; a < this.n; a++) best = Math.min(best, this.physics.distance(e, a, landmark));
    return best;
  }

  /** how many other agents overlap agent i (MPE's is_collision) */
  private collisionsWith(e: number, i: number): number {
    const pw = this.physics;
    const grids = this.envGrids(e);
    if (grids) {
      const [px, py] = this.at(e, i);
      return grids.agents.countWithin(px, py, 2 * AGENT.size, i, (a) => pw.isCollision(e, a, i));
    }
    let count = 0;
    for (let a = 0; a < this.n; a++) if (a !== i && pw.isCollision(e, a, i)) count++;
    return count;
  }

  /** env e's grids, filed from the positions as they are now (null for a small world, or positions no grid can file) */
  private envGrids(e: number): EnvGrids | null {
    const grids = this.grids?.[e] ?? null;
    if (grids && !grids.fresh) {
      const base = e * this.physics.numEntities * 2;
      // (a position that is not finite: every question scans every particle, as without a grid)
      if (!grids.agents.build(this.physics.pos, base) || !grids.landmarks.build(this.physics.pos, base)) return null;
      grids.fresh = true;
    }
    return grids;
  }

  private at(e: number, entity: number): [number, number] {
    const j = (e * this.physics.numEntities + entity) * 2;
    return [this.physics.pos[j], this.physics.pos[j + 1]];
  }
}

const xy = (name: string) => [`${name}.x`, `${name}.y`];
