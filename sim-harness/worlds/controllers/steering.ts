// Choosing an MPE action for a point mass with the MPE dynamics: v' = (1 − damping)·v +
// (force/mass)·dt, position moved with the old velocity. Discrete: one of 0 no-op, 1 −x, 2 +x,
// 3 −y, 4 +y. Continuous: any push (ux, uy) in [−1, 1]², written as the Box's five components.

const DIRECTIONS = [[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]] as const;
const KEEP = 0.75; // 1 − damping
const DT = 0.1;
/** distance covered by coasting from velocity v until rest: v·dt·(1 + 0.75 + 0.75² + …) */
const COAST = DT / (1 - KEEP);

/**
 * Action that brings the agent's anticipated resting point closest to the target: its position
 * after this step plus `anticipation` × the distance it would coast if it stopped pushing.
 * anticipation 1 plans to stop exactly; less arrives sooner at the cost of a small overshoot.
 * (tx, ty): target relative to the agent.
 */
export function arriveAction(tx: number, ty: number, vx: number, vy: number, sensitivity: number, anticipation = 1): number {
  const dv = sensitivity * DT;
  let best = 0;
  let bestErr = Infinity;
  for (let a = 0; a < 5; a++) {
    const nvx = KEEP * vx + dv * DIRECTIONS[a][0];
    const nvy = KEEP * vy + dv * DIRECTIONS[a][1];
    const ex = vx * DT + nvx * COAST * anticipation - tx;
    const ey = vy * DT + nvy * COAST * anticipation - ty;
    const err = ex * ex + ey * ey;
    if (err < bestErr - 1e-12) { bestErr = err; best = a; }
  }
  return best;
}

/** Action whose next velocity is closest to the desired velocity (dvx, dvy). */
export function velocityAction(dvx: number, dvy: number, vx: number, vy: number, sensitivity: number): number {
  const dv = sensitivity * DT;
  let best = 0;
  let bestErr = Infinity;
  for (let a = 0; a < 5; a++) {
    const ex = KEEP * vx + dv * DIRECTIONS[a][0] - dvx;
    const ey = KEEP * vy + dv * DIRECTIONS[a][1] - dvy;
    const err = ex * ex + ey * ey;
    if (err < bestErr - 1e-12) { bestErr = err; best = a; }
  }
  return best;
}

/**
 * The continuous push (each component in [−1, 1]) that brings the anticipated resting point
 * (as arriveAction) onto the target, per axis in closed form, clipped to what the agent can push.
 */
export function arrivePush(tx: number, ty: number, vx: number, vy: number, sensitivity: number, anticipation = 1): [number, number] {
  const gain = sensitivity * DT * COAST * anticipation;
  const axis = (t: number, v: number) => Math.min(1, Math.max(-1, (t - v * DT - KEEP * v * COAST * anticipation) / gain));
  return [axis(tx, vx), axis(ty, vy)];
}

/** A push (ux, uy) as the MPE Box's components (no-op, −x, +x, −y, +y), written at `at`. */
export function writePush(ux: number, uy: number, out: { [k: number]: number }, at: number): void {
  out[at] = 0;
  out[at + 1] = Math.fround(Math.max(0, -ux));
  out[at + 2] = Math.fround(Math.max(0, ux));
  out[at + 3] = Math.fround(Math.max(0, -uy));
  out[at + 4] = Math.fround(Math.max(0, uy));
}
