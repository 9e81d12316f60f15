// How a training loop talks to whoever runs it (the CLI, a test): a metrics line after each
// update or report period, checkpoints on a clock, and a stop flag checked between updates.

import { SimulatorLostError } from '@fleetmind/worlds';

export interface TrainingMetrics {
  'global/env_steps': number;
  'global/updates': number;
  'train/episodes': number;
  /** mean per-agent return of the episodes finished since the last line */
  'train/agent_return_mean': number;
  'train/env_steps_per_s': number;
  'time/wall_s': number;
  [key: string]: number;
}

export interface TrainingHooks<Checkpoint> {
  /** after every update (or report period) */
  onUpdate?: (metrics: TrainingMetrics) => void;
  /** called between updates when `checkpointEverySeconds` have passed since the last one */
  onCheckpoint?: (checkpoint: Checkpoint) => void;
  checkpointEverySeconds?: number;
  /** checked between updates: return true to stop early (e.g. Ctrl-C) */
  shouldStop?: () => boolean;
  /**
   * mappo/ippo: threads that compute an update's gradients, this one included (default 1): each
   * minibatch's gradientShards parts are spread over them. The numbers do not depend on it
   */
  workers?: number;
}

/**
 * A simulator that is gone ends a run, but not its work: the checkpoint of the last update is
 * handed to onCheckpoint before the error goes on (a resumed run continues from it).
 */
export function checkpointIfSimulatorLost<C>(err: unknown, hooks: TrainingHooks<C>, checkpoint: () => C): never {
  if (err instanceof SimulatorLostError && hooks.onCheckpoint) {
    hooks.onCheckpoint(checkpoint());
    err.checkpointSaved = true;
  }
  throw err;
}
