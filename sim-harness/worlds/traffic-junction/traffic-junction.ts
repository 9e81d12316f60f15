// traffic_junction_v0: IC3Net's traffic junction (IC3Net/IC3Net, ic3net-envs/traffic_junction_env.py,
// MIT), exact: cars arrive at random on the border, drive a fixed route one cell per GAS (0) or
// stay on BRAKE (1), and crash when two share a cell. Every car pays 0.01 × its steps in the system
// each step and 10 for each step it shares a cell; the environment never ends an episode, so it is
// cut at the difficulty's max_steps. test/fixtures/traffic_junction/README.md states the semantics,
// quirks included; `fleetmind env check` replays the recorded trajectories through this core.
//
// Cars are the agents car_0 … car_{N-1}: a car slot is active while its car is on the road, and a
// slot is reused by the next arrival after its car leaves (the world contract's active mask).
//
// Step order (IC3Net's): (1) every alive car, in slot order, waits one step more and moves on GAS
// (leaving after the last cell of its path); (2) arrivals, per arrival point in order; (3) the
// observation, rewards and collisions from the state after both. An optional emergency-brake
// shield (emergency-brake.ts) turns unsafe GAS into BRAKE before (1), as a car's own automatic
// braking would; the keep-clear shield (keep-clear.ts) adds that no car waits on an arrival cell,
// or holds up the queue on one, when it can drive on.

import { Rng } from '../rng.js';
import { discreteSpace, type Actions, type DiscreteSpace, type WorldPositions, type WorldSnapshot } from '../types.js';
import type { NumberArray, WorldCore } from '../batched-world.js';
import { BRAKE, buildJunctionMap, DIFFICULTY_DEFAULTS, type Difficulty, type JunctionMap } from './junction-map.js';
import { advanceCurriculum, initialCurriculum, type CurriculumOptions, type CurriculumState } from './curriculum.js';
import { emergencyBrake, type Traffic } from './emergency-brake.js';
import { keepClear } from './keep-clear.js';
import { parseJunctionSnapshot, type JunctionSnapshot } from './junction-snapshot.js';

/** the safety layers the junction applies over any policy's actions */
export const JUNCTION_SHIELDS = ['emergency-brake', 'keep-clear'] as const;
export type JunctionShield = (typeof JUNCTION_SHIELDS)[number];

const TIMESTEP_PENALTY = -0.01;
const CRASH_PENALTY = -10;

export interface TrafficJunctionOptions {
  difficulty?: Difficulty;
  /** cars at most (IC3Net's --nagents; default 5 / 10 / 20) */
  N?: number;
  /** cells seen on each side (default 0 easy, 1 medium and hard) */
  vision?: number;
  /** episode length (IC3Net's --max_steps; default 20 / 40 / 80) */
  maxCycles?: number;
  /** arrival probability per point and step; a curriculum raises it from min to max (default 0.3 / 0.05 / 0.05) */
  addRateMin?: number;
  addRateMax?: number;
  /** the curriculum's epochs (here: an env's episodes), IC3Net's --curr_start and --curr_end (default 0: none) */
  currStart?: number;
  currEnd?: number;
  /** 'emergency-brake': unsafe GAS becomes BRAKE (emergency-brake.ts); 'keep-clear': that, and no waiting on an arrival cell, or in the queue ahead of one, when moving on is safe (keep-clear.ts) */
  shield?: 'none' | JunctionShield;
}

/** The random draws of the arrival phase, as numpy makes them (a scripted source replays recorded ones). */
export interface ArrivalDraws {
  /** numpy's uniform(): in [0, 1) */
  uniform(): number;
  /** numpy's choice(options): one element; a single option draws nothing */
  choice(options: readonly number[]): number;
}

export function rngDraws(rng: Rng): ArrivalDraws {
  return {
    uniform: () => rng.next(),
    choice: (options) => (options.length === 1 ? options[0] : options[rng.int(options.length)]),
  };
}

export class TrafficJunctionCore implements WorldCore, Traffic {
  readonly id = 'traffic_junction_v0';
  readonly numEnvs: number;
  readonly possibleAgents: readonly string[];
  readonly roles: readonly string[];
  readonly obsDims: readonly number[];
  readonly actionSpaces: readonly DiscreteSpace[];
  readonly maxCycles: number;
  readonly stateSize: number;
  readonly infoKeys = ['success', 'collisions', 'arrivals', 'completions', 'add_rate', 'shield_overrides'] as const;
  readonly map: JunctionMap;
  readonly n: number;
  readonly vision: number;
  readonly shield: JunctionShield | null;
  private readonly curriculum: CurriculumOptions;
  private readonly obsDim: number;

  // per car slot [E, N]
  readonly alive: Uint8Array;
  /** the cell a car is on (row · size + col); a dead slot sits at (0, 0), as in IC3Net */
  readonly loc: Int32Array;
  readonly routeId: Int32Array;
  readonly routeLoc: Int32Array;
  readonly lastAct: Uint8Array;
  readonly wait: Int32Array;
  private readonly crashed: Uint8Array;
  private readonly completed: Uint8Array;
  /** the actions after the shield (GAS/BRAKE per slot), for the action phase */
  private readonly applied: Int32Array;
  // per env [E]
  private readonly carsInSys: Int32Array;
  private readonly hasFailed: Uint8Array;
  private readonly curricula: CurriculumState[];
  private readonly episodes: Int32Array;
  private readonly arrivalsNow: Int32Array;
  private readonly completionsNow: Int32Array;
  private readonly crashesNow: Int32Array;
  private readonly overridesNow: Int32Array;
  /** [E, size²] cars per cell, every slot counted (dead ones at (0, 0)), after the last step */
  private readonly cars: Int32Array;
  /** each env's arrival stream: its state travels in snapshots, so a restored env draws on as it would have */
  private readonly arrivalRngs: Rng[] = [];
  private roadCellsFound: number[][] | null = null;
  private readonly draws: ArrivalDraws[] = [];

  constructor(numEnvs: number, options: TrafficJunctionOptions = {}) {
    const difficulty = options.difficulty ?? 'easy';
    const defaults = DIFFICULTY_DEFAULTS[difficulty];
    this.numEnvs = numEnvs;
    this.map = buildJunctionMap(difficulty);
    this.n = options.N ?? defaults.nagents;
    this.vision = options.vision ?? defaults.vision;
    this.maxCycles = options.maxCycles ?? defaults.maxSteps;
    this.shield = options.shield === undefined || options.shield === 'none' ? null : options.shield;
    const addRateMin = options.addRateMin ?? defaults.addRate;
    this.curriculum = { addRateMin, addRateMax: options.addRateMax ?? addRateMin, currStart: options.currStart ?? 0, currEnd: options.currEnd ?? 0 };
    const side = 2 * this.vision + 1;
    this.obsDim = 2 + side * side * this.map.vocabSize;
    this.possibleAgents = Array.from({ length: this.n }, (_, i) => `car_${i}`);
    this.roles = this.possibleAgents.map(() => 'car');
    this.obsDims = this.possibleAgents.map(() => this.obsDim);
    this.actionSpaces = this.possibleAgents.map(() => discreteSpace(2));
    this.stateSize = this.n * CAR_STATE_FIELDS.length;
    const slots = numEnvs * this.n;
    this.alive = new Uint8Array(slots);
    this.loc = new Int32Array(slots);
    this.routeId = new Int32Array(slots);
    this.routeLoc = new Int32Array(slots);
    this.lastAct = new Uint8Array(slots);
    this.wait = new Int32Array(slots);
    this.crashed = new Uint8Array(slots);
    this.completed = new Uint8Array(slots);
    this.applied = new Int32Array(slots);
    this.carsInSys = new Int32Array(numEnvs);
    this.hasFailed = new Uint8Array(numEnvs);
    this.curricula = Array.from({ length: numEnvs }, () => initialCurriculum(this.curriculum));
    this.episodes = new Int32Array(numEnvs);
    this.arrivalsNow = new Int32Array(numEnvs);
    this.completionsNow = new Int32Array(numEnvs);
    this.crashesNow = new Int32Array(numEnvs);
    this.overridesNow = new Int32Array(numEnvs);
    this.cars = new Int32Array(numEnvs * this.map.size * this.map.size);
  }

  get difficulty(): Difficulty {
    return this.map.difficulty;
  }

  /** the arrival rate env e plays with now */
  addRate(e: number): number {
    return this.curricula[e].addRate;
  }

  /** Replaces env e's arrival draws (conformance replays recorded ones); reset() gives it the env's stream again. */
  useDraws(e: number, draws: ArrivalDraws): void {
    this.draws[e] = draws;
  }

  observationFields(): string[] {
    const { vocabSize, outsideClass, carClass } = this.map;
    const channel = (k: number) => (k < outsideClass ? `road_${k}` : k === outsideClass ? 'off_road' : k === carClass ? 'cars' : 'unused');
    const fields = ['last_act', 'route'];
    for (let dy = -this.vision; dy <= this.vision; dy++) {
      for (let dx = -this.vision; dx <= this.vision; dx++) for (let k = 0; k < vocabSize; k++) fields.push(`view(${dy},${dx}).${channel(k)}`);
    }
    return fields;
  }

  /** IC3Net's reset(epoch), with the env's episode index as the epoch: no car, no draw. */
  resetEnv(e: number, rng: Rng): void {
    this.curricula[e] = advanceCurriculum(this.curriculum, this.curricula[e], this.episodes[e]);
    this.episodes[e]++;
    this.arrivalRngs[e] = new Rng(rng.nextUint32(), rng.nextUint32());
    this.draws[e] = rngDraws(this.arrivalRngs[e]);
    const n = this.n;
    for (let i = e * n; i < e * n + n; i++) {
      this.alive[i] = 0;
      this.loc[i] = 0;
      this.routeId[i] = -1;
      this.routeLoc[i] = -1;
      this.lastAct[i] = 0;
      this.wait[i] = 0;
      this.crashed[i] = 0;
      this.completed[i] = 0;
    }
    this.carsInSys[e] = 0;
    this.hasFailed[e] = 0;
    this.arrivalsNow[e] = 0;
    this.completionsNow[e] = 0;
    this.crashesNow[e] = 0;
    this.overridesNow[e] = 0;
    this.countCars(e);
  }

  isActive(e: number, i: number): boolean {
    return this.alive[e * this.n + i] === 1;
  }

  /** the cell after a car's current one on its route, or -1 where GAS takes it off the road */
  nextCell(slot: number): number {
    const path = this.map.paths[this.routeId[slot]];
    const next = this.routeLoc[slot] + 1;
    return next < path.length ? path[next] : -1;
  }

  stepPhysics(actions: Actions): void {
    const n = this.n;
    for (let e = 0; e < this.numEnvs; e++) {
      this.applied.set(actions.subarray(e * n, e * n + n), e * n);
      this.overridesNow[e] = this.shield === 'emergency-brake' ? emergencyBrake(this, e, this.applied)
        : this.shield === 'keep-clear' ? keepClear(this, this.map.arrivalCells, e, this.applied) : 0;
      this.completionsNow[e] = 0;
      this.arrivalsNow[e] = 0;
      for (let i = e * n; i < e * n + n; i++) {
        this.completed[i] = 0;
        if (!this.alive[i]) continue;
        this.wait[i]++;
        if (this.applied[i] === BRAKE) {
          this.lastAct[i] = 1;
          continue;
        }
        const path = this.map.paths[this.routeId[i]];
        this.routeLoc[i]++;
        if (this.routeLoc[i] === path.length) {
          // off the road: last_act, route_id and route_loc stay as they were (IC3Net keeps them)
          this.alive[i] = 0;
          this.carsInSys[e]--;
          this.wait[i] = 0;
          this.loc[i] = 0;
          this.completed[i] = 1;
          this.completionsNow[e]++;
        } else {
          this.loc[i] = path[this.routeLoc[i]];
          this.lastAct[i] = 0;
        }
      }
      this.arrive(e);
      this.countCars(e);
      this.findCrashes(e);
    }
  }

  /** IC3Net's _add_cars: per arrival point, while there is room, a car arrives with probability add_rate. */
  private arrive(e: number): void {
    const n = this.n;
    const draws = this.draws[e];
    const addRate = this.curricula[e].addRate;
    for (let k = 0; k < this.map.numArrivalPoints; k++) {
      if (this.carsInSys[e] >= n) return;
      if (!(draws.uniform() <= addRate)) continue;
      const dead: number[] = [];
      for (let i = 0; i < n; i++) if (!this.alive[e * n + i]) dead.push(i);
      const slot = e * n + draws.choice(dead);
      const paths = this.map.routes[k];
      const p = draws.choice(paths.map((_, j) => j));
      let routeId = p;
      for (let j = 0; j < k; j++) routeId += this.map.routes[j].length;
      // wait is already 0 and last_act is kept (a reused slot shows its previous car's)
      this.alive[slot] = 1;
      this.routeId[slot] = routeId;
      this.routeLoc[slot] = 0;
      this.loc[slot] = paths[p][0];
      this.carsInSys[e]++;
      this.arrivalsNow[e]++;
    }
  }

  private countCars(e: number): void {
    const cells = this.map.size * this.map.size;
    const cars = this.cars.subarray(e * cells, (e + 1) * cells);
    cars.fill(0);
    for (let i = e * this.n; i < (e + 1) * this.n; i++) cars[this.loc[i]]++;
  }

  /** the crash rule of IC3Net's _get_reward: a car off (0, 0) that shares its cell with another slot */
  private findCrashes(e: number): void {
    const cells = this.map.size * this.map.size;
    let crashes = 0;
    for (let i = e * this.n; i < (e + 1) * this.n; i++) {
      const crash = this.loc[i] !== 0 && this.cars[e * cells + this.loc[i]] > 1;
      this.crashed[i] = crash ? 1 : 0;
      // IC3Net multiplies by the alive mask after the step: a crash counts for a car on the road
      if (crash && this.alive[i]) crashes++;
    }
    this.crashesNow[e] = crashes;
    if (crashes > 0) this.hasFailed[e] = 1;
  }

  /** IC3Net's reward, exactly: (−0.01 · wait − 10 if crashed) × alive; the episode never ends by itself. */
  rewards(e: number, out: Float64Array, offset: number): boolean {
    for (let i = 0; i < this.n; i++) {
      const slot = e * this.n + i;
      let r = TIMESTEP_PENALTY * this.wait[slot];
      if (this.crashed[slot]) r += CRASH_PENALTY;
      out[offset + i] = this.alive[slot] ? r : 0;
    }
    return false;
  }

  /** did the crash rule fire for this slot in the last step (IC3Net's −10) */
  crashedNow(e: number, i: number): boolean {
    return this.crashed[e * this.n + i] === 1 && this.alive[e * this.n + i] === 1;
  }

  completedNow(e: number, i: number): boolean {
    return this.completed[e * this.n + i] === 1;
  }

  carsInSystem(e: number): number {
    return this.carsInSys[e];
  }

  /** IC3Net's observation of car i: [last_act, route / (npath − 1), its (2v+1)² view, one-hot road id plus the car count]; zeros for a dead car. */
  observe(e: number, i: number, out: NumberArray, offset: number): void {
    const { map, vision } = this;
    const slot = e * this.n + i;
    out.fill(0, offset, offset + this.obsDim);
    if (!this.alive[slot]) return;
    out[offset] = this.lastAct[slot];
    out[offset + 1] = this.routeId[slot] / (map.paths.length - 1);
    const { size, vocabSize } = map;
    const cells = size * size;
    const row = Math.floor(this.loc[slot] / size);
    const col = this.loc[slot] % size;
    const side = 2 * vision + 1;
    for (let dy = 0; dy < side; dy++) {
      for (let dx = 0; dx < side; dx++) {
        const r = row - vision + dy;
        const c = col - vision + dx;
        const at = offset + 2 + (dy * side + dx) * vocabSize;
        const inside = r >= 0 && r < size && c >= 0 && c < size;
        out[at + (inside ? map.classes[r * size + c] : map.outsideClass)] += 1;
        if (inside) out[at + map.carClass] += this.cars[e * cells + r * size + c];
      }
    }
  }

  writeInfos(e: number, infos: Record<string, Float64Array>): void {
    infos.success[e] = 1 - this.hasFailed[e];
    infos.collisions[e] = this.crashesNow[e];
    infos.arrivals[e] = this.arrivalsNow[e];
    infos.completions[e] = this.completionsNow[e];
    infos.add_rate[e] = this.curricula[e].addRate;
    infos.shield_overrides[e] = this.overridesNow[e];
  }

  /** per car: alive, row and column (0–1), route (0–1), progress along it (0–1), last action, time in the system (in episodes) */
  writeState(e: number, out: Float32Array, offset: number): void {
    const { size, paths } = this.map;
    const fields = CAR_STATE_FIELDS.length;
    for (let i = 0; i < this.n; i++) {
      const slot = e * this.n + i;
      const at = offset + i * fields;
      if (!this.alive[slot]) {
        out.fill(0, at, at + fields);
        continue;
      }
      const path = paths[this.routeId[slot]];
      out[at] = 1;
      out[at + 1] = Math.floor(this.loc[slot] / size) / (size - 1);
      out[at + 2] = (this.loc[slot] % size) / (size - 1);
      out[at + 3] = this.routeId[slot] / (paths.length - 1);
      out[at + 4] = this.routeLoc[slot] / (path.length - 1);
      out[at + 5] = this.lastAct[slot];
      out[at + 6] = this.wait[slot] / this.maxCycles;
    }
  }

  /**
   * For replays: cars' cells as [x = column, y = rows from the bottom] (a car off the road waits at
   * IC3Net's (0, 0), the top-left corner), and every road cell as the other entities: the junction.
   */
  positions(e: number): WorldPositions {
    const agents = Array.from({ length: this.n }, (_, i) => this.cellXY(this.loc[e * this.n + i]));
    return { agents, others: this.roadCells() };
  }

  private cellXY(cell: number): number[] {
    const { size } = this.map;
    return [cell % size, size - 1 - Math.floor(cell / size)];
  }

  /** The road's cells, found once: a communication radius asks for positions every step. */
  private roadCells(): number[][] {
    if (!this.roadCellsFound) {
      const { size, classes, outsideClass } = this.map;
      this.roadCellsFound = [];
      for (let cell = 0; cell < size * size; cell++) if (classes[cell] !== outsideClass || this.onSomeRoute(cell)) this.roadCellsFound.push(this.cellXY(cell));
    }
    return this.roadCellsFound;
  }

  /** easy's (5, 3) has OUTSIDE_CLASS for its id (an IC3Net quirk) but is road */
  private onSomeRoute(cell: number): boolean {
    return this.map.paths.some((path) => path.includes(cell));
  }

  snapshot(e: number): JunctionSnapshot {
    const { size } = this.map;
    const slots = (f: (slot: number) => number) => Array.from({ length: this.n }, (_, i) => f(e * this.n + i));
    const c = this.curricula[e];
    return {
      difficulty: this.map.difficulty,
      alive: slots((s) => this.alive[s]),
      loc: Array.from({ length: this.n }, (_, i) => [Math.floor(this.loc[e * this.n + i] / size), this.loc[e * this.n + i] % size] as [number, number]),
      routeId: slots((s) => this.routeId[s]),
      routeLoc: slots((s) => this.routeLoc[s]),
      lastAct: slots((s) => this.lastAct[s]),
      wait: slots((s) => this.wait[s]),
      hasFailed: this.hasFailed[e],
      addRate: c.addRate,
      exactRate: c.exactRate,
      epochLastUpdate: c.epochLastUpdate,
      episodes: this.episodes[e],
      arrivalRng: this.arrivalRngs[e].getState(),
    };
  }

  setState(e: number, snapshot: WorldSnapshot): void {
    const s = parseJunctionSnapshot(this.id, snapshot, this.n, this.map);
    const { size } = this.map;
    let inSystem = 0;
    for (let i = 0; i < this.n; i++) {
      const slot = e * this.n + i;
      this.alive[slot] = s.alive[i];
      this.loc[slot] = s.loc[i][0] * size + s.loc[i][1];
      this.routeId[slot] = s.routeId[i];
      this.routeLoc[slot] = s.routeLoc[i];
      this.lastAct[slot] = s.lastAct[i];
      this.wait[slot] = s.wait[i];
      this.crashed[slot] = 0;
      this.completed[slot] = 0;
      inSystem += s.alive[i];
    }
    this.carsInSys[e] = inSystem;
    this.hasFailed[e] = s.hasFailed;
    this.curricula[e] = { addRate: s.addRate, exactRate: s.exactRate, epochLastUpdate: s.epochLastUpdate };
    this.episodes[e] = s.episodes;
    this.arrivalRngs[e] = Rng.fromState(s.arrivalRng);
    this.draws[e] = rngDraws(this.arrivalRngs[e]);
    this.countCars(e);
  }
}

/** the global state's fields per car (the centralized critic's input) */
export const CAR_STATE_FIELDS = ['alive', 'row', 'col', 'route', 'progress', 'last_act', 'wait'] as const;
