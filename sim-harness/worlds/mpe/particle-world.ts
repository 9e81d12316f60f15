// Batched MPE particle physics, bit-faithful to PettingZoo 1.25 / MPE2 `core.py`.
//
// The floating-point order follows the reference exactly (see test/fixtures/mpe/README.md §6):
// action force, soft contact force for every pair of colliding entities (no cut-off: a pair too far
// apart adds exactly ±0, so it is skipped, and a grid finds the others when they are many), then
// semi-explicit Euler integration (position with the OLD velocity, damping, force, speed clamp).
// The original MPE (openai/multiagent-particle-envs, and the MAPPO paper's code built on it) moves
// the position with the NEW velocity instead: an action moves the agent in the step it is taken,
// where MPE2's moves it from the next one (`integration: 'original'`).

import { continuousSpace, discreteSpace, type ActionSpace } from '../types.js';
import { SpatialGrid } from './spatial-grid.js';

/**
 * An MPE agent's action space: Discrete(5) (no-op, −x, +x, −y, +y), or with continuous actions
 * PettingZoo's Box(0, 1, (5,)) of pushes in the same order.
 */
export function mpeActionSpace(continuous: boolean): ActionSpace {
  return continuous ? continuousSpace([0, 0, 0, 0, 0], [1, 1, 1, 1, 1]) : discreteSpace(5);
}

export interface EntitySpec {
  size: number;
  mass: number;
  movable: boolean;
  collide: boolean;
  /** speed limit, or null for none */
  maxSpeed: number | null;
  /** action force multiplier (MPE: `accel`, or 5.0 when accel is None) */
  sensitivity: number;
}

export interface PhysicsConstants {
  dt: number;
  damping: number;
  contactForce: number;
  contactMargin: number;
}

/**
 * The order of a step's integration. 'pettingzoo' (MPE2, PettingZoo 1.25): the position moves with
 * the velocity the step began with, then the velocity takes damping and force. 'original' (the
 * original MPE's core.py, which the MAPPO paper's code runs): the velocity first, and the position
 * moves with the new one, so a push shows in the position one step sooner.
 */
export type Integration = 'pettingzoo' | 'original';

export const MPE_CONSTANTS: PhysicsConstants = {
  dt: 0.1,
  damping: 0.25,
  contactForce: 100.0,
  contactMargin: 1e-3,
};

const LOGE2 = 0.6931471805599453;
/**
 * exp(z) is exactly 0 in float64 below z ≈ −745.13: a pair whose softplus argument is below this
 * pushes with exactly ±0, which changes no force, so its exp and log1p are not computed (at
 * N = 1,000 agents most of the time of a step went there). The answer is bit-identical.
 */
const SOFTPLUS_ZERO_BELOW = -746;

/** the squared distance beyond which two entities of these sizes push with exactly ±0 (a hair further, for rounding) */
function noContactBeyond(sizeA: number, sizeB: number, contactMargin: number): number {
  // dist − dmin > −746·k ⇒ the softplus argument −(dist − dmin)/k < −746
  const gap = (sizeA + sizeB - SOFTPLUS_ZERO_BELOW * contactMargin) * (1 + 1e-9);
  return gap * gap;
}

/**
 * From this many colliding entities on, a step finds the pairs close enough to push through a
 * spatial grid instead of looking at every pair (at N = 1,000 agents, half a million a step)
 */
const CONTACT_GRID_MIN = 32;
/** beyond this many partners, a's contacts are sorted by the typed array's own sort */
const INSERTION_SORT_MAX = 32;

/**
 * Below this, exp(z) < 2⁻⁵⁴ and log1p(exp(z)) is exp(z) exactly (fdlibm's log1p, which V8 ports,
 * returns its argument there): the log1p is skipped, bit for bit the same. A crowded large world
 * (1,000 agents spawned in MPE's 2 × 2 arena) computes hundreds of thousands of such faint pushes
 * a step.
 */
const LOG1P_IS_IDENTITY_BELOW = -37.5;

/** numpy's npy_logaddexp(0, z), branch for branch. */
export function logAddExp0(z: number): number {
  if (z === 0) return LOGE2;
  if (z < LOG1P_IS_IDENTITY_BELOW) return Math.exp(z);
  if (z < 0) return Math.log1p(Math.exp(z));
  return z + Math.log1p(Math.exp(-z));
}

export class ParticleWorld {
  readonly numEnvs: number;
  /** entities: the agents first (in order), then landmarks/obstacles */
  readonly numEntities: number;
  readonly numAgents: number;
  /** [E, M, 2] */
  readonly pos: Float64Array;
  /** [E, M, 2] */
  readonly vel: Float64Array;
  /** [E] number of agents whose speed was clamped in the last step */
  readonly speedClamps: Float64Array;
  /** [E, numAgents, 2] the force of each agent's last action, before contacts */
  readonly actionU: Float64Array;

  private readonly specs: readonly EntitySpec[];
  private readonly constants: PhysicsConstants;
  /** flattened (a, b) entity pairs that both collide, a < b */
  private readonly contactPairs: Int32Array;
  /** per contact pair, the squared distance beyond which its contact force is exactly zero */
  private readonly noContactBeyond: Float64Array;
  /** [M, 2] scratch force of one env */
  private readonly force: Float64Array;
  private readonly hasForce: Uint8Array;
  /**
   * many colliding entities, numbered [from, from + count): a grid over them finds each step's
   * pairs close enough to push, taken in the same order as the list of every pair (null: the list)
   */
  private readonly contactGrid: { grid: SpatialGrid; from: number; count: number; radius: number; near: Int32Array } | null;
  /** env-steps whose contacts the grid found (the others looked at every pair) */
  contactStepsByGrid = 0;

  private readonly positionFirst: boolean;

  /**
   * options.contactGrid: false looks at every pair at any size (the reference the grid is tested
   * against); options.integration: the step's order (default 'pettingzoo')
   */
  constructor(numEnvs: number, numAgents: number, specs: readonly EntitySpec[], constants = MPE_CONSTANTS, options: { contactGrid?: boolean; integration?: Integration } = {}) {
    this.numEnvs = numEnvs;
    this.positionFirst = (options.integration ?? 'pettingzoo') === 'pettingzoo';
    this.numAgents = numAgents;
    this.numEntities = specs.length;
    this.specs = specs;
    this.constants = constants;
    const m = specs.length;
    this.pos = new Float64Array(numEnvs * m * 2);
    this.vel = new Float64Array(numEnvs * m * 2);
    this.speedClamps = new Float64Array(numEnvs);
    this.actionU = new Float64Array(numEnvs * numAgents * 2);
    this.force = new Float64Array(m * 2);
    this.hasForce = new Uint8Array(m);
    const pairs: number[] = [];
    for (let a = 0; a < m; a++) {
      for (let b = a + 1; b < m; b++) if (specs[a].collide && specs[b].collide) pairs.push(a, b);
    }
    this.contactPairs = Int32Array.from(pairs);
    this.noContactBeyond = Float64Array.from({ length: pairs.length / 2 }, (_, p) => noContactBeyond(specs[pairs[2 * p]].size, specs[pairs[2 * p + 1]].size, constants.contactMargin));
    const colliding = specs.flatMap((spec, i) => (spec.collide ? [i] : []));
    const contiguous = colliding.length > 0 && colliding[colliding.length - 1] - colliding[0] + 1 === colliding.length;
    if (options.contactGrid !== false && colliding.length >= CONTACT_GRID_MIN && contiguous) {
      const largest = Math.max(...colliding.map((i) => specs[i].size));
      this.contactGrid = {
        grid: new SpatialGrid(colliding[0], colliding.length), from: colliding[0], count: colliding.length,
        radius: Math.sqrt(noContactBeyond(largest, largest, constants.contactMargin)), near: new Int32Array(colliding.length),
      };
    } else this.contactGrid = null;
  }

  /**
   * Advance every env by one step. actions: [E, numAgents] discrete MPE actions
   * (0 no-op, 1 −x, 2 +x, 3 −y, 4 +y), or with `continuous` [E, numAgents, 5] float32 pushes in
   * the same order (component 0 ignored), each first clipped to [0, 1] as PettingZoo's
   * ClipOutOfBoundsWrapper does (test/fixtures/mpe-continuous/README.md §2).
   */
  step(actions: Int32Array | Float32Array, continuous: boolean): void {
    const m = this.numEntities;
    const { dt, damping } = this.constants;
    const keep = 1 - damping;
    const { pos, vel, force, hasForce, specs, contactPairs, noContactBeyond } = this;
    for (let e = 0; e < this.numEnvs; e++) {
      const base = e * m * 2;
      // 1. action forces: u * sensitivity (+ 0.0 noise term)
      hasForce.fill(0);
      for (let i = 0; i < m; i++) {
        const spec = specs[i];
        if (i < this.numAgents && spec.movable) {
          const s = spec.sensitivity;
          let ux: number;
          let uy: number;
          if (continuous) {
            const at = (e * this.numAgents + i) * 5;
            const push = (k: number) => Math.min(Math.max(actions[at + k], 0), 1);
            // numpy subtracts the float32 components in float32: round the difference once
            ux = Math.fround(push(2) - push(1)) * s;
            uy = Math.fround(push(4) - push(3)) * s;
          } else {
            const a = actions[e * this.numAgents + i];
            ux = (a === 1 ? -1.0 : a === 2 ? 1.0 : 0.0) * s;
            uy = (a === 3 ? -1.0 : a === 4 ? 1.0 : 0.0) * s;
          }
          force[2 * i] = ux + 0.0;
          force[2 * i + 1] = uy + 0.0;
          this.actionU[(e * this.numAgents + i) * 2] = force[2 * i];
          this.actionU[(e * this.numAgents + i) * 2 + 1] = force[2 * i + 1];
          hasForce[i] = 1;
        }
      }
      // 2. soft contact forces, pair by pair in the order of the list of every pair
      if (!this.contactsNearby(e)) {
        for (let p = 0; p < contactPairs.length; p += 2) {
          const a = contactPairs[p];
          const b = contactPairs[p + 1];
          if (!this.contact(base, a, b, noContactBeyond[p >> 1])) {
            // a force of exactly ±0: what adding it would leave (an entity's force set, to 0 if it had none)
            this.forceSet(a);
            this.forceSet(b);
          }
        }
      }
      // 3. integrate movable entities
      let clamps = 0;
      for (let i = 0; i < m; i++) {
        const spec = specs[i];
        if (!spec.movable) continue;
        const j = base + 2 * i;
        let vx = vel[j];
        let vy = vel[j + 1];
        if (this.positionFirst) {
          pos[j] = pos[j] + vx * dt;
          pos[j + 1] = pos[j + 1] + vy * dt;
        }
        vx = vx * keep;
        vy = vy * keep;
        if (hasForce[i]) {
          vx = vx + (force[2 * i] / spec.mass) * dt;
          vy = vy + (force[2 * i + 1] / spec.mass) * dt;
        }
        if (spec.maxSpeed !== null) {
          const speed = Math.sqrt(vx * vx + vy * vy);
          if (speed > spec.maxSpeed) {
            vx = (vx / speed) * spec.maxSpeed;
            vy = (vy / speed) * spec.maxSpeed;
            clamps++;
          }
        }
        vel[j] = vx;
        vel[j + 1] = vy;
        if (!this.positionFirst) {
          pos[j] = pos[j] + vx * dt;
          pos[j + 1] = pos[j + 1] + vy * dt;
        }
      }
      this.speedClamps[e] = clamps;
    }
  }

  /**
   * Env e's contacts through the grid (false: the grid is not used here, or cannot file these
   * positions). Every colliding entity is in some pair, and a pair too far apart to push leaves
   * each movable one's force set (0 if it had none): set first, then the pairs close enough push,
   * a ascending and each a's partners b > a ascending, exactly as the list would have them.
   */
  private contactsNearby(e: number): boolean {
    const cg = this.contactGrid;
    if (!cg) return false;
    const base = e * this.numEntities * 2;
    const { pos, specs } = this;
    if (!cg.grid.build(pos, base)) return false;
    this.contactStepsByGrid++;
    const { contactMargin } = this.constants;
    for (let i = cg.from; i < cg.from + cg.count; i++) this.forceSet(i);
    let a = 0;
    let found = 0;
    const closeEnough = (b: number): boolean => {
      if (b <= a) return false;
      const dx = pos[base + 2 * a] - pos[base + 2 * b];
      const dy = pos[base + 2 * a + 1] - pos[base + 2 * b + 1];
      if (dx * dx + dy * dy <= noContactBeyond(specs[a].size, specs[b].size, contactMargin)) cg.near[found++] = b;
      return false;
    };
    for (a = cg.from; a < cg.from + cg.count; a++) {
      found = 0;
      cg.grid.countWithin(pos[base + 2 * a], pos[base + 2 * a + 1], cg.radius, a, closeEnough);
      const near = cg.near;
      // ascending, as the list has them: an insertion sort for the few partners of a spread-out
      // world, a sort for the hundreds of a crowded one (every agent within reach of most others)
      if (found > INSERTION_SORT_MAX) near.subarray(0, found).sort();
      else for (let j = 1; j < found; j++) {
        const b = near[j];
        let at = j;
        for (; at > 0 && near[at - 1] > b; at--) near[at] = near[at - 1];
        near[at] = b;
      }
      for (let j = 0; j < found; j++) this.contact(base, a, near[j], Infinity);
    }
    return true;
  }

  /** an entity's force is set (to 0 if it had none) where it is movable */
  private forceSet(i: number): void {
    if (this.specs[i].movable && !this.hasForce[i]) {
      this.force[2 * i] = 0.0;
      this.force[2 * i + 1] = 0.0;
      this.hasForce[i] = 1;
    }
  }

  /**
   * MPE's soft contact of a and b (env at `base`), added to their forces; false, and nothing
   * added, where they are farther apart than `beyond` (squared): a push of exactly ±0.
   */
  private contact(base: number, a: number, b: number, beyond: number): boolean {
    const { pos, force, hasForce, specs } = this;
    const { contactForce, contactMargin: k } = this.constants;
    const dx = pos[base + 2 * a] - pos[base + 2 * b];
    const dy = pos[base + 2 * a + 1] - pos[base + 2 * b + 1];
    const squared = dx * dx + dy * dy;
    if (squared > beyond) return false;
    const dist = Math.sqrt(squared);
    const dmin = specs[a].size + specs[b].size;
    const pen = logAddExp0(-(dist - dmin) / k) * k;
    const fx = ((contactForce * dx) / dist) * pen;
    const fy = ((contactForce * dy) / dist) * pen;
    if (specs[a].movable) {
      if (!hasForce[a]) {
        force[2 * a] = 0.0;
        force[2 * a + 1] = 0.0;
        hasForce[a] = 1;
      }
      force[2 * a] = fx + force[2 * a];
      force[2 * a + 1] = fy + force[2 * a + 1];
    }
    if (specs[b].movable) {
      if (!hasForce[b]) {
        force[2 * b] = 0.0;
        force[2 * b + 1] = 0.0;
        hasForce[b] = 1;
      }
      force[2 * b] = -fx + force[2 * b];
      force[2 * b + 1] = -fy + force[2 * b + 1];
    }
    return true;
  }

  /** Euclidean distance between entities a and b of env e, computed as MPE does. */
  distance(e: number, a: number, b: number): number {
    const base = e * this.numEntities * 2;
    const dx = this.pos[base + 2 * a] - this.pos[base + 2 * b];
    const dy = this.pos[base + 2 * a + 1] - this.pos[base + 2 * b + 1];
    return Math.sqrt(dx * dx + dy * dy);
  }

  /** MPE `is_collision`: strictly closer than the sum of the sizes. */
  isCollision(e: number, a: number, b: number): boolean {
    return this.distance(e, a, b) < this.specs[a].size + this.specs[b].size;
  }

  size(entity: number): number {
    return this.specs[entity].size;
  }
}

/** What both MPE cores give the world for conformance: agent i's last action force in env e. */
export function lastActionForce(physics: ParticleWorld, e: number, agent: number): [number, number] {
  const at = (e * physics.numAgents + agent) * 2;
  return [physics.actionU[at], physics.actionU[at + 1]];
}
