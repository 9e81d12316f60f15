// A controller turns every agent's observation into an action, for every env at once.

export interface Controller {
  /** observations[i]: [E, obsDim_i]; writes actions [E, N] */
  act(observations: readonly Float32Array[], actions: Int32Array): void;
}
