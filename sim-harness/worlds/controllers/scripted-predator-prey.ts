// Grid predator–prey scripted controller: each predator takes the move that brings it closest
// to the prey; the prey takes the move that keeps it farthest from its nearest predator.
// Moves: 0 up (y+1), 1 down (y−1), 2 left (x−1), 3 right (x+1).

import type { Controller } from './controller.js';

const MOVES = [[0, 1], [0, -1], [-1, 0], [1, 0]] as const;

export function scriptedPredatorPreyController(numPredators: number): Controller {
  const p = numPredators;
  const n = p + 1;
  const predDim = 2 + 2 * p;
  const preyDim = 2 * p;
  return {
    act(observations, actions) {
      const numEnvs = actions.length / n;
      for (let e = 0; e < numEnvs; e++) {
        for (let i = 0; i < p; i++) {
          const obs = observations[i];
          const dx = obs[e * predDim];
          const dy = obs[e * predDim + 1];
          let best = 0;
          let bestDist = Infinity;
          MOVES.forEach(([mx, my], a) => {
            const dist = Math.hypot(dx - mx, dy - my);
            if (dist < bestDist) { bestDist = dist; best = a; }
          });
          actions[e * n + i] = best;
        }
        const obs = observations[p];
        let best = 0;
        let bestNearest = -Infinity;
        MOVES.forEach(([mx, my], a) => {
          let nearest = Infinity;
          for (let j = 0; j < p; j++) {
            nearest = Math.min(nearest, Math.hypot(obs[e * preyDim + 2 * j] - mx, obs[e * preyDim + 2 * j + 1] - my));
          }
          if (nearest > bestNearest) { bestNearest = nearest; best = a; }
        });
        actions[e * n + p] = best;
      }
    },
  };
}
