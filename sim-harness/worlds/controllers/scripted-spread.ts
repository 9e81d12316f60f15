// simple_spread scripted controller, decentralized: each agent reads every landmark and agent
// position relative to itself from its own observation, solves the minimum-total-distance
// assignment of agents to landmarks, and steers to arrive (not overshoot) at its own landmark.

import type { Controller } from './controller.js';
import { minCostAssignment } from './assignment.js';
import { arriveAction, arrivePush, writePush } from './steering.js';

const SENSITIVITY = 5.0;
/**
 * Anticipate a third of the coasting distance: over 25-step episodes, arriving fast and
 * overshooting slightly beats planning to stop exactly (measured on 1,000 episodes, seed 0:
 * −7.35 per agent against −8.67).
 */
const ANTICIPATION = 0.35;

/** continuous: push in proportion (the Box's 5 components per agent) instead of a discrete direction */
export function scriptedSpreadController(numAgents: number, continuous = false): Controller {
  const n = numAgents;
  const obsDim = 4 + 2 * n + 4 * (n - 1);
  const cost = new Float64Array(n * n);
  const ax = new Float64Array(n);
  const ay = new Float64Array(n);
  return {
    act(observations, actions) {
      const numEnvs = actions.length / (n * (continuous ? 5 : 1));
      // k-nearest observations (the neighbours option) hold only some landmarks, sorted by distance
      if (observations[0].length !== numEnvs * obsDim) {
        throw new Error(`the scripted simple_spread controller reads every landmark and agent (${obsDim} values per agent for N = ${n}); these observations have ${observations[0].length / numEnvs}: evaluate it on the same N without the neighbours or sensorDropout options (same starts, same rewards)`);
      }
      for (let e = 0; e < numEnvs; e++) {
        for (let i = 0; i < n; i++) {
          const obs = observations[i];
          const o = e * obsDim;
          // agent positions relative to agent i, in agent order (itself at the origin)
          for (let a = 0, k = 0; a < n; a++) {
            if (a === i) { ax[a] = 0; ay[a] = 0; continue; }
            ax[a] = obs[o + 4 + 2 * n + 2 * k];
            ay[a] = obs[o + 4 + 2 * n + 2 * k + 1];
            k++;
          }
          for (let a = 0; a < n; a++) {
            for (let l = 0; l < n; l++) {
              cost[a * n + l] = Math.hypot(obs[o + 4 + 2 * l] - ax[a], obs[o + 4 + 2 * l + 1] - ay[a]);
            }
          }
          const mine = minCostAssignment(cost, n)[i];
          const [tx, ty, vx, vy] = [obs[o + 4 + 2 * mine], obs[o + 5 + 2 * mine], obs[o], obs[o + 1]];
          if (continuous) {
            const [ux, uy] = arrivePush(tx, ty, vx, vy, SENSITIVITY, ANTICIPATION);
            writePush(ux, uy, actions, (e * n + i) * 5);
          } else {
            actions[e * n + i] = arriveAction(tx, ty, vx, vy, SENSITIVITY, ANTICIPATION);
          }
        }
      }
    },
  };
}
