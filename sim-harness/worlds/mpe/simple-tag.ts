// simple_tag_v3 (PettingZoo 1.25 / MPE2): slower adversaries chase faster good agents (prey)
// around immovable obstacles.
//
// Every adversary gets +10 for each (prey, adversary) pair in contact; a prey gets −10 for each
// adversary touching it and a soft out-of-bounds penalty per axis. No arena walls.

import type { Rng } from '../rng.js';
import type { Actions, ActionSpace, WorldPositions, WorldSnapshot } from '../types.js';
import { writeConcatenatedObservations, type NumberArray, type WorldCore } from '../batched-world.js';
import { lastActionForce, mpeActionSpace, ParticleWorld, type EntitySpec } from './particle-world.js';
import { particlePositions, setParticles, snapshotParticles, type ParticleSnapshot } from './particle-state.js';

export interface SimpleTagOptions {
  /** number of prey (default 1) */
  numGood?: number;
  /** number of pursuers (default 3) */
  numAdversaries?: number;
  /** number of obstacles (default 2) */
  numObstacles?: number;
  /** episode length (default 25) */
  maxCycles?: number;
  /** PettingZoo's continuous_actions: Box(0, 1, (5,)) pushes instead of Discrete(5) */
  continuousActions?: boolean;
}

const ADVERSARY: EntitySpec = { size: 0.075, mass: 1.0, movable: true, collide: true, maxSpeed: 1.0, sensitivity: 3.0 };
const GOOD: EntitySpec = { size: 0.05, mass: 1.0, movable: true, collide: true, maxSpeed: 1.3, sensitivity: 4.0 };
const OBSTACLE: EntitySpec = { size: 0.2, mass: 1.0, movable: false, collide: true, maxSpeed: null, sensitivity: 5.0 };

/** The prey's soft boundary penalty for one axis, |x| given. */
export function boundPenalty(x: number): number {
  if (x < 0.9) return 0;
  if (x < 1.0) return (x - 0.9) * 10;
  return Math.min(Math.exp(2 * x - 2), 10);
}

export class SimpleTagCore implements WorldCore {
  readonly id = 'simple_tag_v3';
  readonly numEnvs: number;
  readonly possibleAgents: readonly string[];
  readonly roles: readonly string[];
  readonly obsDims: readonly number[];
  readonly actionSpaces: readonly ActionSpace[];
  private readonly continuous: boolean;
  readonly maxCycles: number;
  readonly stateSize: number;
  readonly infoKeys = ['catches', 'speed_clamps'] as const;
  readonly physics: ParticleWorld;
  readonly numAdversaries: number;
  private readonly numAgents: number;
  private readonly numObstacles: number;

  constructor(numEnvs: number, options: SimpleTagOptions = {}) {
    const good = options.numGood ?? 1;
    const adv = options.numAdversaries ?? 3;
    const obstacles = options.numObstacles ?? 2;
    this.numEnvs = numEnvs;
    this.numAdversaries = adv;
    this.numAgents = adv + good;
    this.numObstacles = obstacles;
    this.maxCycles = options.maxCycles ?? 25;
    this.possibleAgents = [
      ...Array.from({ length: adv }, (_, i) => `adversary_${i}`),
      ...Array.from({ length: good }, (_, i) => `agent_${i}`),
    ];
    this.roles = this.possibleAgents.map((_, i) => (i < adv ? 'adversary' : 'agent'));
    const base = 4 + 2 * obstacles + 2 * (this.numAgents - 1);
    // adversaries see every prey's velocity; a prey sees the other prey's velocities
    this.obsDims = this.possibleAgents.map((_, i) => base + 2 * (i < adv ? good : good - 1));
    this.continuous = options.continuousActions ?? false;
    this.actionSpaces = this.possibleAgents.map(() => mpeActionSpace(this.continuous));
    this.stateSize = this.obsDims.reduce((s, d) => s + d, 0);
    const specs = [...Array(adv).fill(ADVERSARY), ...Array(good).fill(GOOD), ...Array(obstacles).fill(OBSTACLE)];
    this.physics = new ParticleWorld(numEnvs, this.numAgents, specs);
  }

  resetEnv(e: number, rng: Rng): void {
    const { pos, vel, numEntities: m } = this.physics;
    for (let i = 0; i < m; i++) {
      const j = (e * m + i) * 2;
      const r = i < this.numAgents ? 1 : 0.9;
      pos[j] = rng.uniform(-r, r);
      pos[j + 1] = rng.uniform(-r, r);
      vel[j] = 0;
      vel[j + 1] = 0;
    }
  }

  stepPhysics(actions: Actions): void {
    this.physics.step(actions, this.continuous);
  }

  actionForce(e: number, agent: number): [number, number] {
    return lastActionForce(this.physics, e, agent);
  }

  rewards(e: number, out: Float64Array, offset: number): boolean {
    const adv = this.numAdversaries;
    const pw = this.physics;
    const m = pw.numEntities;
    const adversaryReward = 10 * this.countCatches(e);
    for (let i = 0; i < this.numAgents; i++) {
      if (i < adv) {
        out[offset + i] = adversaryReward;
        continue;
      }
      let rew = 0;
      for (let a = 0; a < adv; a++) if (pw.isCollision(e, a, i)) rew -= 10;
      const j = (e * m + i) * 2;
      rew -= boundPenalty(Math.abs(pw.pos[j]));
      rew -= boundPenalty(Math.abs(pw.pos[j + 1]));
      out[offset + i] = rew;
    }
    return false;
  }

  observationFields(agent: number): string[] {
    const others = this.possibleAgents.filter((_, a) => a !== agent);
    const otherPrey = this.possibleAgents.filter((_, a) => a >= this.numAdversaries && a !== agent);
    return [
      ...xy('self_vel'), ...xy('self_pos'),
      ...Array.from({ length: this.numObstacles }, (_, o) => xy(`landmark_${o}_rel`)).flat(),
      ...others.flatMap((name) => xy(`${name}_rel`)),
      ...otherPrey.flatMap((name) => xy(`${name}_vel`)),
    ];
  }

  observe(e: number, agent: number, out: NumberArray, offset: number): void {
    const pw = this.physics;
    const m = pw.numEntities;
    const { pos, vel } = pw;
    const me = (e * m + agent) * 2;
    const px = pos[me];
    const py = pos[me + 1];
    let k = offset;
    out[k++] = vel[me];
    out[k++] = vel[me + 1];
    out[k++] = px;
    out[k++] = py;
    for (let o = 0; o < this.numObstacles; o++) {
      const j = (e * m + this.numAgents + o) * 2;
      out[k++] = pos[j] - px;
      out[k++] = pos[j + 1] - py;
    }
    for (let a = 0; a < this.numAgents; a++) {
      if (a === agent) continue;
      const j = (e * m + a) * 2;
      out[k++] = pos[j] - px;
      out[k++] = pos[j + 1] - py;
    }
    for (let a = this.numAdversaries; a < this.numAgents; a++) {
      if (a === agent) continue;
      const j = (e * m + a) * 2;
      out[k++] = vel[j];
      out[k++] = vel[j + 1];
    }
  }

  writeInfos(e: number, infos: Record<string, Float64Array>): void {
    infos.catches[e] = this.countCatches(e);
    infos.speed_clamps[e] = this.physics.speedClamps[e];
  }

  writeState(e: number, out: Float32Array, offset: number): void {
    writeConcatenatedObservations(this, e, out, offset);
  }

  snapshot(e: number): ParticleSnapshot {
    return snapshotParticles(this.physics, e);
  }

  positions(e: number): WorldPositions {
    return particlePositions(this.physics, e);
  }

  setState(e: number, snapshot: WorldSnapshot): void {
    setParticles(this.id, this.physics, e, snapshot);
  }

  /** (prey, adversary) pairs in contact */
  private countCatches(e: number): number {
    let catches = 0;
    for (let g = this.numAdversaries; g < this.numAgents; g++) {
      for (let a = 0; a < this.numAdversaries; a++) if (this.physics.isCollision(e, g, a)) catches++;
    }
    return catches;
  }
}

const xy = (name: string) => [`${name}.x`, `${name}.y`];
