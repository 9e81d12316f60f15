// Sensor dropout: at each step, each agent's sensing of the other entities (landmarks, other
// agents) is lost with probability p — a camera frame that did not arrive — while its own
// odometry (position, velocity) always is. A world where memory matters (issue 19's partial
// observability): an agent that remembers where things were can act on a lost frame; one that
// reacts to its latest observation alone is blind on it.
//
// The draws are a hash of a key taken at the episode's start, the step and the agent, not a
// stream: an env's snapshot holds its key and step, so a restored or replayed episode loses
// exactly the same frames. The key is read from the env's random stream without drawing from
// it, so the world starts the same episodes with or without dropout.

import { z } from 'zod';
import type { Rng } from '../rng.js';
import { WorldError } from '../types.js';

export const sensorSnapshotSchema = z.strictObject({
  /** the episode's key (an unsigned 32-bit integer) */
  key: z.number().int().min(0).max(0xffffffff),
  /** steps taken in the episode */
  step: z.number().int().nonnegative(),
});

export type SensorSnapshot = z.infer<typeof sensorSnapshotSchema>;

export class SensorDropout {
  private readonly keys: Uint32Array;
  private readonly steps: Int32Array;
  /** the probability as a threshold on a 32-bit hash */
  private readonly threshold: number;

  constructor(numEnvs: number, readonly probability: number) {
    if (!(probability >= 0 && probability <= 1)) throw new Error(`sensor dropout is a probability in [0, 1], got ${probability}`);
    this.keys = new Uint32Array(numEnvs);
    this.steps = new Int32Array(numEnvs);
    this.threshold = probability * 2 ** 32;
  }

  /** a new episode in env e (after its start was drawn): its key, from the stream's state */
  startEpisode(e: number, rng: Rng): void {
    const [a, b, c, d] = rng.getState();
    this.keys[e] = frameHash(a ^ c, b, d);
    this.steps[e] = 0;
  }

  /** every env moved one step */
  stepped(): void {
    for (let e = 0; e < this.steps.length; e++) this.steps[e]++;
  }

  /** whether agent i's sensing of the others is lost in env e at this step */
  lost(e: number, agent: number): boolean {
    return frameHash(this.keys[e], this.steps[e], agent) < this.threshold;
  }

  snapshot(e: number): SensorSnapshot {
    return { key: this.keys[e], step: this.steps[e] };
  }

  /** env e's key and step from a snapshot's `sensor` field (refused with what is wrong) */
  restore(worldId: string, e: number, value: unknown): void {
    const parsed = sensorSnapshotSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = ['sensor', ...issue.path.map(String)].join('.');
      throw new WorldError(`${worldId}: snapshot.${where}: ${issue.message} (a world with sensorDropout keeps {key, step} there)`);
    }
    this.keys[e] = parsed.data.key;
    this.steps[e] = parsed.data.step;
  }
}

/** murmur3's finalizer over (key, step, agent): a uniform 32-bit value per frame */
function frameHash(key: number, step: number, agent: number): number {
  let h = (key ^ Math.imul(step + 1, 0x9e3779b1) ^ Math.imul(agent + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
