// A controller turns every agent's observation into an action, for every env at once.

import type { Actions } from '../types.js';

export interface Controller {
  /** observations[i]: [E, obsDim_i]; writes actions [E, N] (discrete) or [E, N, D] (continuous) */
  act(observations: readonly Float32Array[], actions: Actions): void;
}
