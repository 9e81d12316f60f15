// How a training loop talks to whoever runs it (the CLI, a test): a metrics line after each
// update or report period, checkpoints on a clock, and a stop flag checked between updates.

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
}
