// Replay for the off-policy learners (IQL, VDN, QMIX, MADDPG): a ring of joint transitions from
// E envs stepping in lockstep, so env e's step at iteration k sits at slot (k·E + e) mod capacity.
// Whole episodes are indexed as they finish; QMIX and VDN sample episodes (as pymarl does),
// IQL and MADDPG single transitions. Its whole state is plain arrays, so a resumed run replays
// exactly what the uninterrupted one would have.

import type { Actions, Rng } from '@fleetmind/worlds';
import type { ReplayState } from '../runs/checkpoint-schema.js';

export type { ReplayState };

export interface ReplayLayout {
  numEnvs: number;
  /** observation size of each agent */
  obsDims: readonly number[];
  stateSize: number;
  /** continuous actions: the vector's length (actions are then stored as float32 vectors); absent: discrete indices */
  actionSize?: number;
}

/** One joint step of every env: what the loop already has in hand after world.step(). */
export interface JointStep {
  /** observations[i]: [E, obsDim_i] before the step */
  observations: readonly Float32Array[];
  /** [E, S] */
  state: Float32Array;
  /** [E, N] indices, or [E, N, D] vectors */
  actions: Actions;
  /** [E, N] */
  rewards: Float64Array;
  /** nextObservations[i]: [E, obsDim_i] after the step (the final observation where an episode ended) */
  nextObservations: readonly Float32Array[];
  /** [E, S] after the step */
  nextState: Float32Array;
  /** [E] 1 where the task ended the episode (no bootstrapping); a step-limit cut is not terminal */
  terminated: Uint8Array;
  /** [E] 1 where the episode ended for any reason */
  episodeEnded: Uint8Array;
}

/** Whole episodes in time order (ReplayBuffer.sampleEpisodeSequences). */
export interface EpisodeSequences {
  /** the longest episode's length */
  steps: number;
  episodes: number;
  /** [steps · episodes], time-major: episode b's step t at t·episodes + b */
  slots: Int32Array;
  /** [steps · episodes]: 1 where the step is in its episode, 0 past its end */
  valid: Uint8Array;
  /** [episodes] */
  lengths: Int32Array;
}

type StoredEpisode = ReplayState['episodes'][number];

export class ReplayBuffer {
  readonly capacity: number;
  readonly numAgents: number;
  private readonly iterations: number;
  private readonly obsWidth: number;
  private readonly obsOffsets: number[];
  /** [capacity, Σ obsDim] */
  private readonly obs: Float32Array;
  private readonly nextObs: Float32Array;
  /** [capacity, S] */
  private readonly state: Float32Array;
  private readonly nextState: Float32Array;
  /** [capacity, N] indices, or [capacity, N, D] vectors */
  private readonly actions: Int32Array | Float32Array;
  private readonly actionSize: number;
  private readonly rewards: Float32Array;
  /** [capacity] */
  private readonly terminated: Uint8Array;
  private iteration = 0;
  private episodeStart: number[];
  private episodes: StoredEpisode[] = [];

  constructor(readonly layout: ReplayLayout, capacity: number) {
    const e = layout.numEnvs;
    this.iterations = Math.max(1, Math.floor(capacity / e));
    this.capacity = this.iterations * e;
    this.numAgents = layout.obsDims.length;
    this.obsOffsets = [];
    let width = 0;
    for (const d of layout.obsDims) { this.obsOffsets.push(width); width += d; }
    this.obsWidth = width;
    this.obs = new Float32Array(this.capacity * width);
    this.nextObs = new Float32Array(this.capacity * width);
    this.state = new Float32Array(this.capacity * layout.stateSize);
    this.nextState = new Float32Array(this.capacity * layout.stateSize);
    this.actionSize = layout.actionSize ?? 1;
    this.actions = layout.actionSize ? new Float32Array(this.capacity * this.numAgents * this.actionSize) : new Int32Array(this.capacity * this.numAgents);
    this.rewards = new Float32Array(this.capacity * this.numAgents);
    this.terminated = new Uint8Array(this.capacity);
    this.episodeStart = new Array<number>(e).fill(0);
  }

  /** transitions stored (at most capacity) */
  get size(): number {
    return Math.min(this.iteration, this.iterations) * this.layout.numEnvs;
  }

  /** complete episodes still wholly in the ring */
  get episodeCount(): number {
    this.evict();
    return this.episodes.length;
  }

  add(step: JointStep): void {
    const e = this.layout.numEnvs;
    const n = this.numAgents;
    const s = this.layout.stateSize;
    const base = (this.iteration % this.iterations) * e;
    for (let env = 0; env < e; env++) {
      const slot = base + env;
      for (let i = 0; i < n; i++) {
        const d = this.layout.obsDims[i];
        const at = slot * this.obsWidth + this.obsOffsets[i];
        this.obs.set(step.observations[i].subarray(env * d, (env + 1) * d), at);
        this.nextObs.set(step.nextObservations[i].subarray(env * d, (env + 1) * d), at);
        for (let d = 0; d < this.actionSize; d++) this.actions[(slot * n + i) * this.actionSize + d] = step.actions[(env * n + i) * this.actionSize + d];
        this.rewards[slot * n + i] = step.rewards[env * n + i];
      }
      this.state.set(step.state.subarray(env * s, (env + 1) * s), slot * s);
      this.nextState.set(step.nextState.subarray(env * s, (env + 1) * s), slot * s);
      this.terminated[slot] = step.terminated[env];
      if (step.episodeEnded[env]) {
        const first = this.episodeStart[env];
        this.episodes.push({ env, first, length: this.iteration - first + 1 });
        this.episodeStart[env] = this.iteration + 1;
      }
    }
    this.iteration++;
  }

  /** count transitions drawn uniformly (with replacement) from everything stored */
  sampleTransitions(count: number, rng: Rng): Int32Array {
    const size = this.size;
    if (size === 0) throw new Error('the replay buffer is empty');
    const out = new Int32Array(count);
    for (let k = 0; k < count; k++) out[k] = rng.int(size);
    return out;
  }

  /** every transition of `count` whole episodes drawn uniformly (with replacement) */
  sampleEpisodes(count: number, rng: Rng): Int32Array {
    this.evict();
    if (this.episodes.length === 0) throw new Error('the replay buffer holds no complete episode yet');
    const picked = Array.from({ length: count }, () => this.episodes[rng.int(this.episodes.length)]);
    const out = new Int32Array(picked.reduce((sum, ep) => sum + ep.length, 0));
    let k = 0;
    const e = this.layout.numEnvs;
    for (const ep of picked) {
      for (let t = 0; t < ep.length; t++) out[k++] = ((ep.first + t) % this.iterations) * e + ep.env;
    }
    return out;
  }

  /**
   * `count` whole episodes drawn uniformly (with replacement), laid out in time for a recurrent
   * network: slot t·count + b is episode b's step t, up to the longest episode's length. A shorter
   * episode's steps past its end repeat its last slot and are not `valid` (a loss leaves them out).
   */
  sampleEpisodeSequences(count: number, rng: Rng): EpisodeSequences {
    this.evict();
    if (this.episodes.length === 0) throw new Error('the replay buffer holds no complete episode yet');
    const picked = Array.from({ length: count }, () => this.episodes[rng.int(this.episodes.length)]);
    const steps = Math.max(...picked.map((ep) => ep.length));
    const slots = new Int32Array(steps * count);
    const valid = new Uint8Array(steps * count);
    const e = this.layout.numEnvs;
    picked.forEach((ep, b) => {
      for (let t = 0; t < steps; t++) {
        slots[t * count + b] = ((ep.first + Math.min(t, ep.length - 1)) % this.iterations) * e + ep.env;
        valid[t * count + b] = t < ep.length ? 1 : 0;
      }
    });
    return { steps, episodes: count, slots, valid, lengths: Int32Array.from(picked, (ep) => ep.length) };
  }

  /** agent i's observations (or next observations) at the given slots: [slots, obsDim_i] */
  observationsOf(agent: number, slots: Int32Array, next = false): Float32Array {
    const d = this.layout.obsDims[agent];
    const src = next ? this.nextObs : this.obs;
    const out = new Float32Array(slots.length * d);
    slots.forEach((slot, k) => out.set(src.subarray(slot * this.obsWidth + this.obsOffsets[agent], slot * this.obsWidth + this.obsOffsets[agent] + d), k * d));
    return out;
  }

  /** global states (or next states) at the slots: [slots, S] */
  statesOf(slots: Int32Array, next = false): Float32Array {
    const s = this.layout.stateSize;
    const src = next ? this.nextState : this.state;
    const out = new Float32Array(slots.length * s);
    slots.forEach((slot, k) => out.set(src.subarray(slot * s, (slot + 1) * s), k * s));
    return out;
  }

  /** a discrete action's index */
  actionOf(agent: number, slot: number): number {
    return this.actions[slot * this.numAgents + agent];
  }

  /** a continuous action's vector (a view: copy it to keep it) */
  actionVectorOf(agent: number, slot: number): Float32Array {
    const at = (slot * this.numAgents + agent) * this.actionSize;
    return (this.actions as Float32Array).subarray(at, at + this.actionSize);
  }

  rewardOf(agent: number, slot: number): number {
    return this.rewards[slot * this.numAgents + agent];
  }

  isTerminal(slot: number): boolean {
    return this.terminated[slot] === 1;
  }

  getState(): ReplayState {
    const bytes = (a: Float32Array | Int32Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
    this.evict();
    return {
      iteration: this.iteration,
      episodeStart: [...this.episodeStart],
      episodes: this.episodes.map((ep) => ({ ...ep })),
      arrays: {
        obs: bytes(this.obs), nextObs: bytes(this.nextObs), state: bytes(this.state), nextState: bytes(this.nextState),
        actions: bytes(this.actions), rewards: bytes(this.rewards), terminated: bytes(this.terminated),
      },
    };
  }

  setState(saved: ReplayState): void {
    const targets: Record<string, Float32Array | Int32Array | Uint8Array> = {
      obs: this.obs, nextObs: this.nextObs, state: this.state, nextState: this.nextState,
      actions: this.actions, rewards: this.rewards, terminated: this.terminated,
    };
    for (const [name, target] of Object.entries(targets)) {
      const raw = Buffer.from(saved.arrays[name] ?? '', 'base64');
      if (raw.byteLength !== target.byteLength) {
        throw new Error(`replay "${name}" holds ${raw.byteLength} bytes, this buffer needs ${target.byteLength} (another capacity or world?)`);
      }
      new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(raw);
    }
    this.iteration = saved.iteration;
    this.episodeStart = [...saved.episodeStart];
    this.episodes = saved.episodes.map((ep) => ({ ...ep }));
  }

  /** forgets episodes whose first steps the ring has overwritten */
  private evict(): void {
    // (episodes are listed as they end, not as they start, so any of them may have expired)
    const oldest = this.iteration - this.iterations;
    if (this.episodes.some((ep) => ep.first < oldest)) this.episodes = this.episodes.filter((ep) => ep.first >= oldest);
  }
}
