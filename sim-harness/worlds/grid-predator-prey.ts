// The seed notebook's grid predator–prey: predators chase one prey on a square grid.
//
// Moves: 0 up (y+1), 1 down (y−1), 2 left (x−1), 3 right (x+1), clipped at the walls.
// Capture when every predator is within Euclidean distance 1.5 of the prey: predators +10 each,
// prey −10, episode over. Otherwise predators −0.01 and the prey +1 a step. 100 steps.

import type { Rng } from './rng.js';
import { discreteSpace, WorldError, type Actions, type DiscreteSpace, type WorldPositions, type WorldSnapshot } from './types.js';
import type { NumberArray, WorldCore } from './batched-world.js';

export interface GridPredatorPreyOptions {
  /** side of the square grid (default 10) */
  gridSize?: number;
  /** number of predators (default 3) */
  numPredators?: number;
  /** episode length (default 100) */
  maxCycles?: number;
}

const CAPTURE_DISTANCE = 1.5;
/** position bins per axis of the seed's tabular state index */
export const STATE_BINS = 5;

export class GridPredatorPreyCore implements WorldCore {
  readonly id = 'grid_predator_prey_v0';
  readonly numEnvs: number;
  readonly possibleAgents: readonly string[];
  readonly roles: readonly string[];
  readonly obsDims: readonly number[];
  readonly actionSpaces: readonly DiscreteSpace[];
  readonly maxCycles: number;
  readonly stateSize: number;
  readonly infoKeys = ['captured', 'steps_to_capture'] as const;
  readonly gridSize: number;
  readonly numPredators: number;
  /** [E, P+1, 2] cell coordinates; the prey is last */
  readonly cells: Int32Array;
  private readonly steps: Int32Array;
  private readonly captured: Uint8Array;

  constructor(numEnvs: number, options: GridPredatorPreyOptions = {}) {
    this.numEnvs = numEnvs;
    this.gridSize = options.gridSize ?? 10;
    this.numPredators = options.numPredators ?? 3;
    this.maxCycles = options.maxCycles ?? 100;
    const p = this.numPredators;
    this.possibleAgents = [...Array.from({ length: p }, (_, i) => `predator_${i}`), 'prey_0'];
    this.roles = this.possibleAgents.map((_, i) => (i < p ? 'predator' : 'prey'));
    // predator: prey − self, then every predator − self (itself included, as in the seed); prey: predators − prey
    this.obsDims = this.possibleAgents.map((_, i) => (i < p ? 2 + 2 * p : 2 * p));
    this.actionSpaces = this.possibleAgents.map(() => discreteSpace(4));
    this.stateSize = 2 * (p + 1);
    this.cells = new Int32Array(numEnvs * (p + 1) * 2);
    this.steps = new Int32Array(numEnvs);
    this.captured = new Uint8Array(numEnvs);
  }

  resetEnv(e: number, rng: Rng): void {
    const k = this.numPredators + 1;
    for (let j = 0; j < k * 2; j++) this.cells[e * k * 2 + j] = rng.int(this.gridSize);
    this.steps[e] = 0;
    this.captured[e] = 0;
  }

  stepPhysics(actions: Actions): void {
    const k = this.numPredators + 1;
    const top = this.gridSize - 1;
    const c = this.cells;
    for (let e = 0; e < this.numEnvs; e++) {
      for (let i = 0; i < k; i++) {
        const j = (e * k + i) * 2;
        switch (actions[e * k + i]) {
          case 0: c[j + 1] = Math.min(c[j + 1] + 1, top); break;
          case 1: c[j + 1] = Math.max(c[j + 1] - 1, 0); break;
          case 2: c[j] = Math.max(c[j] - 1, 0); break;
          case 3: c[j] = Math.min(c[j] + 1, top); break;
        }
      }
      this.steps[e]++;
      this.captured[e] = this.isCaptured(e) ? 1 : 0;
    }
  }

  rewards(e: number, out: Float64Array, offset: number): boolean {
    const captured = this.captured[e] === 1;
    for (let i = 0; i < this.numPredators; i++) out[offset + i] = captured ? 10.0 : -0.01;
    out[offset + this.numPredators] = captured ? -10.0 : 1.0;
    return captured;
  }

  observationFields(agent: number): string[] {
    const rel = (name: string) => [`${name}_rel.x`, `${name}_rel.y`];
    return [
      ...(agent < this.numPredators ? rel('prey_0') : []),
      ...Array.from({ length: this.numPredators }, (_, p) => rel(`predator_${p}`)).flat(),
    ];
  }

  observe(e: number, agent: number, out: NumberArray, offset: number): void {
    const k = this.numPredators + 1;
    const c = this.cells;
    const prey = (e * k + this.numPredators) * 2;
    const me = (e * k + agent) * 2;
    let o = offset;
    if (agent < this.numPredators) {
      out[o++] = c[prey] - c[me];
      out[o++] = c[prey + 1] - c[me + 1];
    }
    for (let p = 0; p < this.numPredators; p++) {
      const j = (e * k + p) * 2;
      out[o++] = c[j] - c[me];
      out[o++] = c[j + 1] - c[me + 1];
    }
  }

  writeInfos(e: number, infos: Record<string, Float64Array>): void {
    infos.captured[e] = this.captured[e];
    infos.steps_to_capture[e] = this.captured[e] ? this.steps[e] : 0;
  }

  /** global state: every predator's cell, then the prey's */
  writeState(e: number, out: Float32Array, offset: number): void {
    const n = this.stateSize;
    for (let j = 0; j < n; j++) out[offset + j] = this.cells[e * n + j];
  }

  /**
   * The seed's tabular state index: each coordinate binned into STATE_BINS bins, read as the
   * digits of a base-STATE_BINS number whose last digit is the prey's y.
   */
  discreteState(e: number): number {
    const n = this.stateSize;
    let index = 0;
    let multiplier = 1;
    for (let j = n - 1; j >= 0; j--) {
      const bin = Math.floor((this.cells[e * n + j] * STATE_BINS) / this.gridSize);
      index += bin * multiplier;
      multiplier *= STATE_BINS;
    }
    return index;
  }

  /** number of distinct discreteState values */
  get numDiscreteStates(): number {
    return STATE_BINS ** this.stateSize;
  }

  /** the cells of the predators, then the prey's: [column, row] each */
  snapshot(e: number): { agentPos: number[][] } {
    const k = this.numPredators + 1;
    return { agentPos: Array.from({ length: k }, (_, i) => [this.cells[(e * k + i) * 2], this.cells[(e * k + i) * 2 + 1]]) };
  }

  positions(e: number): WorldPositions {
    return { agents: this.snapshot(e).agentPos, others: [] };
  }

  setState(e: number, s: WorldSnapshot): void {
    const k = this.numPredators + 1;
    const cells = s.agentPos;
    if (!Array.isArray(cells) || cells.length !== k) {
      throw new WorldError(`${this.id}: snapshot.agentPos must hold ${k} cells, got ${Array.isArray(cells) ? cells.length : typeof cells}`);
    }
    cells.forEach((xy, i) => {
      const ok = Array.isArray(xy) && xy.length === 2 && xy.every((v) => Number.isInteger(v) && v >= 0 && v < this.gridSize);
      if (!ok) throw new WorldError(`${this.id}: snapshot.agentPos[${i}] must be two integers in [0, ${this.gridSize}), got ${JSON.stringify(xy)}`);
    });
    cells.forEach((xy: number[], i) => {
      this.cells[(e * k + i) * 2] = xy[0];
      this.cells[(e * k + i) * 2 + 1] = xy[1];
    });
    this.steps[e] = s.steps;
    this.captured[e] = 0;
  }

  private isCaptured(e: number): boolean {
    const k = this.numPredators + 1;
    const c = this.cells;
    const prey = (e * k + this.numPredators) * 2;
    for (let p = 0; p < this.numPredators; p++) {
      const j = (e * k + p) * 2;
      const dx = c[j] - c[prey];
      const dy = c[j + 1] - c[prey + 1];
      if (Math.sqrt(dx * dx + dy * dy) > CAPTURE_DISTANCE) return false;
    }
    return true;
  }
}
