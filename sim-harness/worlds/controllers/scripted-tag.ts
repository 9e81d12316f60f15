// simple_tag scripted controller: adversaries pursue the nearest prey's predicted position at
// full speed; a prey flees from the adversaries, weighted by closeness, and is pulled back
// before the soft boundary at |x| or |y| = 0.9 starts to cost it.

import type { Controller } from './controller.js';
import { velocityAction } from './steering.js';

const ADVERSARY = { sensitivity: 3.0, maxSpeed: 1.0 };
const PREY = { sensitivity: 4.0, maxSpeed: 1.3 };
/** seconds of prey motion the pursuers lead by */
const LEAD = 0.3;

export function scriptedTagController(obsDims: readonly number[], numAdversaries: number): Controller {
  const n = obsDims.length;
  const numGood = n - numAdversaries;
  const numObstacles = (obsDims[0] - 4 - 2 * (n - 1) - 2 * numGood) / 2;
  const othersAt = 4 + 2 * numObstacles;
  return {
    act(observations, actions) {
      const numEnvs = actions.length / n;
      for (let e = 0; e < numEnvs; e++) {
        for (let i = 0; i < n; i++) {
          const d = obsDims[i];
          const obs = observations[i];
          const o = e * d;
          const vx = obs[o];
          const vy = obs[o + 1];
          let wantX = 0;
          let wantY = 0;
          if (i < numAdversaries) {
            // others: adversaries except me (numAdversaries−1), then the prey; then prey velocities
            let best = Infinity;
            for (let g = 0; g < numGood; g++) {
              const r = othersAt + 2 * (numAdversaries - 1 + g);
              const v = othersAt + 2 * (n - 1) + 2 * g;
              const tx = obs[o + r] + LEAD * obs[o + v];
              const ty = obs[o + r + 1] + LEAD * obs[o + v + 1];
              const dist = Math.hypot(tx, ty);
              if (dist < best) { best = dist; wantX = tx; wantY = ty; }
            }
            const norm = Math.hypot(wantX, wantY) || 1;
            actions[e * n + i] = velocityAction((wantX / norm) * ADVERSARY.maxSpeed, (wantY / norm) * ADVERSARY.maxSpeed, vx, vy, ADVERSARY.sensitivity);
          } else {
            for (let a = 0; a < numAdversaries; a++) {
              const rx = obs[o + othersAt + 2 * a];
              const ry = obs[o + othersAt + 2 * a + 1];
              const d2 = rx * rx + ry * ry + 1e-6;
              wantX -= rx / d2;
              wantY -= ry / d2;
            }
            const px = obs[o + 2];
            const py = obs[o + 3];
            const norm = Math.hypot(wantX, wantY) || 1;
            wantX /= norm;
            wantY /= norm;
            if (Math.abs(px) > 0.7) wantX -= Math.sign(px) * (Math.abs(px) - 0.7) * 8;
            if (Math.abs(py) > 0.7) wantY -= Math.sign(py) * (Math.abs(py) - 0.7) * 8;
            const n2 = Math.hypot(wantX, wantY) || 1;
            actions[e * n + i] = velocityAction((wantX / n2) * PREY.maxSpeed, (wantY / n2) * PREY.maxSpeed, vx, vy, PREY.sensitivity);
          }
        }
      }
    },
  };
}
