// pong_v0: the seed notebook's multi-agent Pong. Two sides, `left` and `right`, with one or two
// paddles each, play first to `pointsToWin` points: zero-sum between the sides (a point is +1 to
// every paddle of the side that scores and −1 to every paddle of the side that concedes),
// cooperative within a side. With two paddles a side, each paddle guards its half of the goal.
//
// The court is x ∈ [−1, 1] (the left goal line at −1, the right at +1), y ∈ [−1, 1]. Paddles stand
// at x = ∓0.9 and move along y. Actions: 0 up (+y), 1 stay, 2 down (−y).
//
// Step order: (1) every paddle moves by its action, kept inside its range; (2) the ball moves by
// its velocity; (3) off the top or bottom wall it is mirrored back (vy flips); (4) where its path
// crossed a side's paddle line this step heading for that goal, it is returned if it crossed within
// a paddle's reach: mirrored across the line, sped up by 5 % (to a limit), and sent off at an angle
// set by where it met the paddle (the centre straight back, the edges at up to 60°); (5) past a goal
// line, the other side scores and the ball is served again from the centre, toward the side that
// conceded; (6) the game ends when a side has `pointsToWin` points.
//
// An agent observes from its own side: x is measured toward the opponent's goal (the right side's
// is mirrored), so one policy can play either side. With observeIntercept it is also told where the
// ball will cross the paddle line it heads for: a learner that must fold wall bounces into that
// height itself learns to return the ball but not to aim it (README, Pong).

import { Rng } from './rng.js';
import { discreteSpace, type Actions, type DiscreteSpace, type WorldPositions, type WorldSnapshot } from './types.js';
import type { NumberArray, WorldCore } from './batched-world.js';
import { parsePongSnapshot, type PongSnapshot } from './pong-snapshot.js';

export interface PongOptions {
  /** 1 or 2 paddles a side (default 1) */
  paddlesPerSide?: number;
  /** the game is won by the first side to this many points (default 3) */
  pointsToWin?: number;
  /** step limit of a game (default 1500) */
  maxCycles?: number;
  /**
   * also observe `ball_y_at_line`: the height at which the ball, flying on as it flies now, crosses
   * the paddle line it is heading for (the walls folded in), as a tracking camera's predictor would
   * give it (default false)
   */
  observeIntercept?: boolean;
}

export const UP = 0;
export const STAY = 1;
export const DOWN = 2;
const PADDLE_X = 0.9;
const PADDLE_SPEED = 0.04;
const BALL_RADIUS = 0.02;
const SERVE_SPEED = 0.03;
const SPEED_GAIN = 1.05;
const MAX_SPEED = 0.06;
const MAX_RETURN_ANGLE = Math.PI / 3;
const MAX_SERVE_ANGLE = Math.PI / 4;
/** velocities are observed ×10 (to the scale of positions) */
const VELOCITY_SCALE = 10;

export class PongCore implements WorldCore {
  readonly id = 'pong_v0';
  readonly numEnvs: number;
  readonly possibleAgents: readonly string[];
  readonly roles: readonly string[];
  readonly obsDims: readonly number[];
  readonly actionSpaces: readonly DiscreteSpace[];
  readonly maxCycles: number;
  readonly stateSize: number;
  readonly infoKeys = ['points_left', 'points_right', 'hits', 'rally', 'left_wins', 'right_wins'] as const;
  readonly perSide: number;
  readonly pointsToWin: number;
  readonly observeIntercept: boolean;
  /** paddle half-length: a paddle of two covers half as much goal */
  readonly paddleHalf: number;
  /** [E, 4]: ball x, y, vx, vy */
  readonly ball: Float64Array;
  /** [E, N] paddle y */
  readonly paddleY: Float64Array;
  /** [E, 2] points of the left and the right side */
  readonly score: Int32Array;
  private readonly rally: Int32Array;
  private readonly hitsNow: Int32Array;
  private readonly rallyEnded: Int32Array;
  /** [E] the side that scored this step: 0 none, −1 left, +1 right */
  private readonly scoredNow: Int8Array;
  /** each env's serves: its state travels in snapshots, so a restored game serves on as it would have */
  private readonly serveRngs: Rng[] = [];

  constructor(numEnvs: number, options: PongOptions = {}) {
    this.numEnvs = numEnvs;
    this.perSide = options.paddlesPerSide ?? 1;
    this.pointsToWin = options.pointsToWin ?? 3;
    this.maxCycles = options.maxCycles ?? 1500;
    this.observeIntercept = options.observeIntercept ?? false;
    this.paddleHalf = this.perSide === 1 ? 0.2 : 0.15;
    const p = this.perSide;
    this.possibleAgents = [...Array.from({ length: p }, (_, k) => `left_${k}`), ...Array.from({ length: p }, (_, k) => `right_${k}`)];
    this.roles = this.possibleAgents.map((a) => a.split('_')[0]);
    this.obsDims = this.possibleAgents.map(() => this.observationFields().length);
    this.actionSpaces = this.possibleAgents.map(() => discreteSpace(3));
    this.stateSize = 4 + 2 * p + 2;
    this.ball = new Float64Array(numEnvs * 4);
    this.paddleY = new Float64Array(numEnvs * 2 * p);
    this.score = new Int32Array(numEnvs * 2);
    this.rally = new Int32Array(numEnvs);
    this.hitsNow = new Int32Array(numEnvs);
    this.rallyEnded = new Int32Array(numEnvs);
    this.scoredNow = new Int8Array(numEnvs);
  }

  observationFields(): string[] {
    const p = this.perSide;
    return [
      'self_y', 'ball_x', 'ball_y', 'ball_vx', 'ball_vy',
      ...(this.observeIntercept ? ['ball_y_at_line'] : []),
      ...Array.from({ length: p - 1 }, (_, k) => `mate_${k}_y`),
      ...Array.from({ length: p }, (_, k) => `opponent_${k}_y`),
      'own_points', 'opponent_points',
    ];
  }

  /** the y range paddle k of a side keeps to: the whole goal, or (two a side) its half */
  private range(k: number): [number, number] {
    if (this.perSide === 1) return [-1 + this.paddleHalf, 1 - this.paddleHalf];
    return k === 0 ? [this.paddleHalf, 1 - this.paddleHalf] : [-1 + this.paddleHalf, -this.paddleHalf];
  }

  resetEnv(e: number, rng: Rng): void {
    this.serveRngs[e] = new Rng(rng.nextUint32(), rng.nextUint32());
    const n = 2 * this.perSide;
    for (let i = 0; i < n; i++) {
      const [low, high] = this.range(i % this.perSide);
      this.paddleY[e * n + i] = (low + high) / 2;
    }
    this.score[e * 2] = 0;
    this.score[e * 2 + 1] = 0;
    this.rally[e] = 0;
    this.hitsNow[e] = 0;
    this.rallyEnded[e] = 0;
    this.scoredNow[e] = 0;
    this.serve(e, this.serveRngs[e].next() < 0.5 ? -1 : 1);
  }

  /** the ball from the centre line toward the side `toward` (−1 left, +1 right), at a random height and angle */
  private serve(e: number, toward: number): void {
    const rng = this.serveRngs[e];
    const angle = (rng.next() * 2 - 1) * MAX_SERVE_ANGLE;
    const b = e * 4;
    this.ball[b] = 0;
    this.ball[b + 1] = rng.next() - 0.5;
    this.ball[b + 2] = toward * SERVE_SPEED * Math.cos(angle);
    this.ball[b + 3] = SERVE_SPEED * Math.sin(angle);
  }

  stepPhysics(actions: Actions): void {
    const n = 2 * this.perSide;
    for (let e = 0; e < this.numEnvs; e++) {
      this.hitsNow[e] = 0;
      this.rallyEnded[e] = 0;
      this.scoredNow[e] = 0;
      // (1) paddles
      for (let i = 0; i < n; i++) {
        const a = actions[e * n + i];
        const [low, high] = this.range(i % this.perSide);
        const y = this.paddleY[e * n + i] + (a === UP ? PADDLE_SPEED : a === DOWN ? -PADDLE_SPEED : 0);
        this.paddleY[e * n + i] = Math.min(high, Math.max(low, y));
      }
      // (2) the ball, (3) the walls
      const b = e * 4;
      const x0 = this.ball[b];
      const y0 = this.ball[b + 1];
      let x = x0 + this.ball[b + 2];
      let y = y0 + this.ball[b + 3];
      if (y > 1 - BALL_RADIUS) { y = 2 * (1 - BALL_RADIUS) - y; this.ball[b + 3] = -this.ball[b + 3]; }
      if (y < -1 + BALL_RADIUS) { y = 2 * (-1 + BALL_RADIUS) - y; this.ball[b + 3] = -this.ball[b + 3]; }
      // (4) the paddles' lines
      for (const side of [-1, 1]) {
        const line = side * PADDLE_X;
        const crossed = side < 0 ? x0 > line && x <= line : x0 < line && x >= line;
        if (!crossed) continue;
        const at = (line - x0) / (x - x0);
        const yCross = y0 + at * (y - y0);
        const first = side < 0 ? 0 : this.perSide;
        for (let k = 0; k < this.perSide; k++) {
          const offset = yCross - this.paddleY[e * n + first + k];
          if (Math.abs(offset) > this.paddleHalf + BALL_RADIUS) continue;
          const speed = Math.min(MAX_SPEED, Math.hypot(this.ball[b + 2], this.ball[b + 3]) * SPEED_GAIN);
          const angle = Math.max(-1, Math.min(1, offset / this.paddleHalf)) * MAX_RETURN_ANGLE;
          this.ball[b + 2] = -side * speed * Math.cos(angle);
          this.ball[b + 3] = speed * Math.sin(angle);
          x = 2 * line - x;
          this.hitsNow[e]++;
          this.rally[e]++;
          break;
        }
      }
      this.ball[b] = x;
      this.ball[b + 1] = y;
      // (5) a point
      if (x < -1 || x > 1) {
        const scorer = x < -1 ? 1 : -1;
        this.score[e * 2 + (scorer < 0 ? 0 : 1)]++;
        this.scoredNow[e] = scorer;
        this.rallyEnded[e] = this.rally[e];
        this.rally[e] = 0;
        this.serve(e, -scorer);
      }
    }
  }

  rewards(e: number, out: Float64Array, offset: number): boolean {
    const scored = this.scoredNow[e];
    for (let i = 0; i < 2 * this.perSide; i++) {
      const side = i < this.perSide ? -1 : 1;
      out[offset + i] = scored === 0 ? 0 : scored === side ? 1 : -1;
    }
    return this.score[e * 2] >= this.pointsToWin || this.score[e * 2 + 1] >= this.pointsToWin;
  }

  observe(e: number, i: number, out: NumberArray, offset: number): void {
    const p = this.perSide;
    const n = 2 * p;
    const left = i < p;
    // toward the opponent is +x for either side
    const mirror = left ? 1 : -1;
    const b = e * 4;
    const own = left ? 0 : p;
    const opponents = left ? p : 0;
    let at = offset;
    out[at++] = this.paddleY[e * n + i];
    out[at++] = mirror * this.ball[b];
    out[at++] = this.ball[b + 1];
    out[at++] = mirror * this.ball[b + 2] * VELOCITY_SCALE;
    out[at++] = this.ball[b + 3] * VELOCITY_SCALE;
    if (this.observeIntercept) out[at++] = this.interceptY(e);
    for (let k = 0; k < p; k++) if (own + k !== i) out[at++] = this.paddleY[e * n + own + k];
    for (let k = 0; k < p; k++) out[at++] = this.paddleY[e * n + opponents + k];
    out[at++] = this.score[e * 2 + (left ? 0 : 1)] / this.pointsToWin;
    out[at] = this.score[e * 2 + (left ? 1 : 0)] / this.pointsToWin;
  }

  /**
   * The height at which the ball crosses the paddle line it heads for, if nothing touches it on
   * the way: its straight path with the wall bounces folded in (the same for either side: heights
   * are not mirrored). Past that line already, its height now.
   */
  private interceptY(e: number): number {
    const b = e * 4;
    const x = this.ball[b];
    const y = this.ball[b + 1];
    const vx = this.ball[b + 2];
    const vy = this.ball[b + 3];
    const line = vx < 0 ? -PADDLE_X : PADDLE_X;
    const steps = vx === 0 ? 0 : Math.max(0, (line - x) / vx);
    const low = -1 + BALL_RADIUS;
    const span = 2 - 2 * BALL_RADIUS;
    const u = ((y + vy * steps - low) % (2 * span) + 2 * span) % (2 * span);
    return low + (u > span ? 2 * span - u : u);
  }

  writeInfos(e: number, infos: Record<string, Float64Array>): void {
    infos.points_left[e] = this.scoredNow[e] === -1 ? 1 : 0;
    infos.points_right[e] = this.scoredNow[e] === 1 ? 1 : 0;
    infos.hits[e] = this.hitsNow[e];
    infos.rally[e] = this.rallyEnded[e];
    infos.left_wins[e] = this.score[e * 2] >= this.pointsToWin ? 1 : 0;
    infos.right_wins[e] = this.score[e * 2 + 1] >= this.pointsToWin ? 1 : 0;
  }

  /** the court as it is (not mirrored): the ball, every paddle, the score */
  writeState(e: number, out: Float32Array, offset: number): void {
    const n = 2 * this.perSide;
    out[offset] = this.ball[e * 4];
    out[offset + 1] = this.ball[e * 4 + 1];
    out[offset + 2] = this.ball[e * 4 + 2] * VELOCITY_SCALE;
    out[offset + 3] = this.ball[e * 4 + 3] * VELOCITY_SCALE;
    for (let i = 0; i < n; i++) out[offset + 4 + i] = this.paddleY[e * n + i];
    out[offset + 4 + n] = this.score[e * 2] / this.pointsToWin;
    out[offset + 5 + n] = this.score[e * 2 + 1] / this.pointsToWin;
  }

  positions(e: number): WorldPositions {
    const n = 2 * this.perSide;
    const agents = this.possibleAgents.map((_, i) => [i < this.perSide ? -PADDLE_X : PADDLE_X, this.paddleY[e * n + i]]);
    return { agents, others: [[this.ball[e * 4], this.ball[e * 4 + 1]]] };
  }

  snapshot(e: number): PongSnapshot {
    const n = 2 * this.perSide;
    return {
      ball: [this.ball[e * 4], this.ball[e * 4 + 1], this.ball[e * 4 + 2], this.ball[e * 4 + 3]],
      paddles: Array.from(this.paddleY.subarray(e * n, e * n + n)),
      score: [this.score[e * 2], this.score[e * 2 + 1]],
      rally: this.rally[e],
      serveRng: this.serveRngs[e].getState(),
    };
  }

  setState(e: number, snapshot: WorldSnapshot): void {
    const n = 2 * this.perSide;
    const s = parsePongSnapshot(this.id, snapshot, n, this.pointsToWin);
    this.ball.set(s.ball, e * 4);
    s.paddles.forEach((y, i) => {
      const [low, high] = this.range(i % this.perSide);
      this.paddleY[e * n + i] = Math.min(high, Math.max(low, y));
    });
    this.score[e * 2] = s.score[0];
    this.score[e * 2 + 1] = s.score[1];
    this.rally[e] = s.rally;
    this.serveRngs[e] = Rng.fromState(s.serveRng);
    this.hitsNow[e] = 0;
    this.rallyEnded[e] = 0;
    this.scoredNow[e] = 0;
  }
}
