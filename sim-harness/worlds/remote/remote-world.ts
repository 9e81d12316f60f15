// A world served by simulators in other processes (docs/remote-world-protocol.md): the World
// contract over the remote-world protocol. Synchronous like every World — the sockets live on a
// worker thread (link-worker.ts) and this thread sleeps on a shared flag until the answers are
// in. With several simulators each serves a contiguous share of the E envs, env k of the batch
// being env k − offset of its simulator, reset from stream firstStream + k: the batch plays the
// same episodes however it is split.

import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { agentIndexIn, checkEnvIndex, WorldError, type Actions, type ActionSpace, type BoxSpace, type ResetResult, type StepResult, type World, type WorldCheckpoint, type WorldPositions, type WorldSnapshot, boxSpace } from '../types.js';
import { DEFAULT_TIMEOUT_MS, parseRemoteAddress, type RemoteAddress } from './endpoints.js';
import type { LinkRequest, LinkResponse } from './link-worker.js';
import {
  actionsPerEnv, actionSpaceOf, BodyReader, BodyWriter, errorSchema, FRAME_NAMES, FrameType, parseJson,
  PROTOCOL_VERSION, ProtocolError, readObservations, readStepResult, snapshotOf, specSchema,
  type Frame, type FrameTypeCode, type StepBody, type WorldSpec,
} from './protocol.js';

const LINK_WORKER = new URL('./link-worker.js', import.meta.url);

/** The simulator is gone (it closed the connection, or stopped answering): the run cannot go on. */
export class SimulatorLostError extends WorldError {
  /** the run that lost it saved its checkpoint first */
  checkpointSaved = false;
  constructor(message: string, readonly endpoint: string) {
    super(message);
    this.name = 'SimulatorLostError';
  }
}

/** Where the time of the last steps went, µs: in the simulators (the slowest of them), and the rest. */
export interface RemoteTiming {
  steps: number;
  roundTripUs: number;
  serverUs: number;
}

export interface RemoteWorldOptions {
  numEnvs?: number;
  autoReset?: boolean;
  /** the world's options, sent to every simulator in HELLO */
  config?: Record<string, unknown>;
}

export class RemoteWorld implements World {
  readonly id: string;
  readonly address: string;
  readonly numEnvs: number;
  readonly possibleAgents: readonly string[];
  readonly roles: readonly string[];
  readonly stateSize: number;
  readonly maxCycles: number;
  readonly infoKeys: readonly string[];
  readonly comesAndGoes: boolean;
  readonly numDiscreteStates = null;
  /** what the simulators said at connect */
  readonly spec: WorldSpec;
  readonly timing: RemoteTiming = { steps: 0, roundTripUs: 0, serverUs: 0 };

  private readonly remote: RemoteAddress;
  private readonly shares: { offset: number; envs: number }[];
  private readonly autoReset: boolean;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly spaces: ActionSpace[];
  private readonly body: StepBody;
  private readonly steps: Int32Array;
  private resets = 0;
  private started = false;
  private broken: Error | null = null;

  constructor(address: string, options: RemoteWorldOptions = {}) {
    this.address = address;
    this.remote = parseRemoteAddress(address);
    this.numEnvs = options.numEnvs ?? 1;
    this.autoReset = options.autoReset ?? true;
    const k = this.remote.endpoints.length;
    if (!Number.isInteger(this.numEnvs) || this.numEnvs < k) throw new WorldError(`${address}: ${this.numEnvs} envs cannot be shared by ${k} simulators (at least one each)`);
    // contiguous shares, as even as they can be
    let offset = 0;
    this.shares = this.remote.endpoints.map((_, s) => {
      const envs = Math.floor(this.numEnvs / k) + (s < this.numEnvs % k ? 1 : 0);
      const share = { offset, envs };
      offset += envs;
      return share;
    });
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.worker = new Worker(LINK_WORKER, { workerData: { endpoints: this.remote.endpoints, signal: this.flag.buffer, port: channel.port2 }, transferList: [channel.port2] });
    this.worker.unref(); // a run that forgets close() still exits
    const hellos = this.shares.map((share) => new BodyWriter().json({ protocol: PROTOCOL_VERSION, num_envs: share.envs, auto_reset: this.autoReset, options: options.config ?? {} }).frame(FrameType.HELLO));
    let specs: WorldSpec[];
    try {
      specs = this.exchange(hellos, FrameType.SPEC, 'HELLO', true).map((frame, s) => {
        const spec = parseJson(specSchema, new BodyReader(frame.body, `SPEC from ${this.remote.endpoints[s].url}`).json('spec'), `SPEC from ${this.remote.endpoints[s].url}`);
        if (spec.protocol !== PROTOCOL_VERSION) throw new ProtocolError(`${this.remote.endpoints[s].url} speaks protocol ${spec.protocol}; fleetmind speaks ${PROTOCOL_VERSION}`, 'protocol');
        return spec;
      });
    } catch (err) {
      this.close();
      throw err;
    }
    const spec = specs[0];
    specs.forEach((other, s) => {
      const { protocol: _a, ...mine } = spec;
      const { protocol: _b, ...theirs } = other;
      if (JSON.stringify(mine) !== JSON.stringify(theirs)) {
        this.close();
        throw new ProtocolError(`${this.remote.endpoints[s].url} serves another world than ${this.remote.endpoints[0].url} (${other.id} with ${other.agents.length} agents vs ${spec.id} with ${spec.agents.length}): every simulator of one batch must serve the same world with the same options`, 'spec');
      }
    });
    this.spec = spec;
    this.id = spec.id;
    this.possibleAgents = spec.agents;
    this.roles = spec.roles;
    this.stateSize = spec.state_size;
    this.maxCycles = spec.max_cycles;
    this.infoKeys = spec.info_keys;
    this.comesAndGoes = spec.comes_and_goes;
    this.spaces = spec.action_spaces.map(actionSpaceOf);
    const e = this.numEnvs;
    const n = spec.agents.length;
    const obs = () => spec.observation_sizes.map((d) => new Float32Array(e * d));
    this.body = {
      serverUs: 0, observations: obs(), state: new Float32Array(e * spec.state_size), infos: spec.info_keys.map(() => new Float64Array(e)),
      active: new Uint8Array(e * n).fill(1), rewards: new Float64Array(e * n), terminations: new Uint8Array(e * n), truncations: new Uint8Array(e * n),
      episodeEnded: new Uint8Array(e), finalObservations: obs(), finalStates: new Float32Array(e * spec.state_size),
    };
    this.steps = new Int32Array(e);
  }

  get agents(): string[] {
    return this.activeAgents(0);
  }

  get active(): Uint8Array {
    return this.body.active;
  }

  activeAgents(env: number): string[] {
    this.checkEnv(env);
    const n = this.possibleAgents.length;
    return this.possibleAgents.filter((_, i) => this.body.active[env * n + i] === 1);
  }

  observationSpace(agent: string | number): BoxSpace {
    return boxSpace(this.spec.observation_sizes[this.agentIndex(agent)]);
  }

  observationFields(agent: string | number): string[] {
    const i = this.agentIndex(agent);
    return this.spec.observation_fields?.[i] ?? Array.from({ length: this.spec.observation_sizes[i] }, (_, k) => `obs_${k}`);
  }

  actionSpace(agent: string | number): ActionSpace {
    return this.spaces[this.agentIndex(agent)];
  }

  reset(seed = 0, firstStream = 0): ResetResult {
    if (!Number.isSafeInteger(seed)) throw new WorldError(`reset seed must be an integer, got ${seed}`);
    if (!Number.isSafeInteger(firstStream) || firstStream < 0 || firstStream + this.numEnvs > 2 ** 32) throw new WorldError(`reset firstStream must be a non-negative integer, got ${firstStream}`);
    const frames = this.shares.map((share) => new BodyWriter().i64(seed).u32(firstStream + share.offset).frame(FrameType.RESET));
    this.readObservationsFrom(this.exchange(frames, FrameType.OBSERVATIONS, 'RESET'));
    this.steps.fill(0);
    this.resets++;
    this.started = true;
    for (const info of this.body.infos) info.fill(0);
    return { observations: this.body.observations, active: this.body.active, infos: this.infosRecord() };
  }

  step(actions: Actions): StepResult {
    if (!this.started) throw new WorldError(`${this.id}: step() called before reset()`);
    const perEnv = actionsPerEnv(this.spec);
    const discrete = this.spaces[0].kind === 'discrete';
    if (discrete ? !(actions instanceof Int32Array) : !(actions instanceof Float32Array)) {
      throw new WorldError(`${this.id}: ${discrete ? 'discrete actions must be an Int32Array' : 'continuous actions must be a Float32Array'}`);
    }
    if (actions.length !== this.numEnvs * perEnv) throw new WorldError(`${this.id}: expected ${this.numEnvs * perEnv} action values (${this.numEnvs} envs × ${perEnv}), got ${actions.length}`);
    const frames = this.shares.map((share) => new BodyWriter().array(actions.subarray(share.offset * perEnv, (share.offset + share.envs) * perEnv)).frame(FrameType.STEP));
    const sent = performance.now();
    const answers = this.exchange(frames, FrameType.STEP_RESULT, 'STEP');
    let serverUs = 0;
    answers.forEach((frame, s) => {
      const share = this.shares[s];
      const what = `STEP_RESULT from ${this.remote.endpoints[s].url}`;
      const us = readStepResult(new BodyReader(frame.body, what), this.spec, share.envs, this.autoReset, this.body, share.offset);
      serverUs = Math.max(serverUs, us);
    });
    this.timing.steps++;
    this.timing.roundTripUs += (performance.now() - sent) * 1000;
    this.timing.serverUs += serverUs;
    for (let e = 0; e < this.numEnvs; e++) this.steps[e] = this.body.episodeEnded[e] && this.autoReset ? 0 : this.steps[e] + 1;
    const b = this.body;
    return {
      observations: b.observations, rewards: b.rewards, active: b.active, terminations: b.terminations, truncations: b.truncations,
      episodeEnded: b.episodeEnded, finalObservations: this.autoReset ? b.finalObservations : b.observations,
      finalStates: this.autoReset ? b.finalStates : b.state, infos: this.infosRecord(),
    };
  }

  state(): Float32Array {
    return this.body.state;
  }

  snapshot(env: number): WorldSnapshot {
    this.checkEnv(env);
    const s = this.shareOf(env);
    const frames = this.shares.map((_, k) => (k === s ? new BodyWriter().u32(env - this.shares[s].offset).frame(FrameType.SNAPSHOT) : null));
    const frame = this.exchange(frames, FrameType.SNAPSHOT_RESULT, 'SNAPSHOT')[s];
    const what = `SNAPSHOT_RESULT from ${this.remote.endpoints[s].url}`;
    return snapshotOf(new BodyReader(frame.body, what).json('snapshot'), what);
  }

  setState(env: number, snapshot: WorldSnapshot): void {
    this.checkEnv(env);
    if (!this.started) this.reset(0);
    const s = this.shareOf(env);
    const frames = this.shares.map((_, k) => (k === s ? new BodyWriter().u32(env - this.shares[s].offset).json(snapshot).frame(FrameType.SET_STATE) : null));
    const frame = this.exchange(frames, FrameType.OBSERVATIONS, 'SET_STATE')[s];
    const share = this.shares[s];
    const r = new BodyReader(frame.body, `OBSERVATIONS from ${this.remote.endpoints[s].url}`);
    readObservations(r, this.spec, share.envs, this.body, share.offset);
    r.end('active');
    this.steps[env] = snapshot.steps;
  }

  positions(_env: number): WorldPositions | null {
    return null;
  }

  discreteState(_env: number): number | null {
    return null;
  }

  stepsInEpisode(env: number): number {
    return this.steps[env];
  }

  /**
   * A remote world's state lives in the simulators, which may be gone when a run saves its
   * checkpoint: a resumed run starts fresh episodes (seeded by how many resets came before),
   * not the ones in progress.
   */
  checkpoint(): WorldCheckpoint {
    return { envs: [], rngs: [[this.resets]] };
  }

  restore(checkpoint: WorldCheckpoint): Float32Array[] {
    return this.reset(0x5e11 + (checkpoint.rngs[0]?.[0] ?? 0)).observations;
  }

  /** Says goodbye to the simulators and stops the socket thread. */
  close(): void {
    if (this.broken === null) this.broken = new WorldError(`${this.id ?? this.address}: the remote world is closed`);
    this.port.postMessage('close');
    void this.worker.terminate();
  }

  private infosRecord(): Record<string, Float64Array> {
    return Object.fromEntries(this.infoKeys.map((key, k) => [key, this.body.infos[k]]));
  }

  private readObservationsFrom(frames: Frame[]): void {
    frames.forEach((frame, s) => {
      const share = this.shares[s];
      const r = new BodyReader(frame.body, `OBSERVATIONS from ${this.remote.endpoints[s].url}`);
      readObservations(r, this.spec, share.envs, this.body, share.offset);
      r.end('active');
    });
  }

  /** Sends each simulator its frame and waits (at most the timeout) for the answer of the expected type. */
  private exchange(frames: (Uint8Array | null)[], expect: FrameTypeCode, what: string, connect = false): Frame[] {
    if (this.broken) throw this.broken;
    Atomics.store(this.flag, 0, 0);
    // the frames are this call's own: handed over, not copied
    this.port.postMessage({ frames, connect } satisfies LinkRequest, frames.filter((f): f is Uint8Array => f !== null).map((f) => f.buffer as ArrayBuffer));
    // connecting also starts the socket thread, and a simulator may load its scene at HELLO
    const timeoutMs = connect ? Math.max(this.remote.timeoutMs, DEFAULT_TIMEOUT_MS) : this.remote.timeoutMs;
    const deadline = performance.now() + timeoutMs;
    const waited = Atomics.wait(this.flag, 0, 0, timeoutMs);
    let response = waited === 'timed-out' ? undefined : receiveMessageOnPort(this.port)?.message as LinkResponse | undefined;
    // a wake whose answer is not in the port yet (seen once on a loaded CI machine): it is on its
    // way, so look again each millisecond until the deadline
    while (!response && waited !== 'timed-out' && performance.now() < deadline) {
      Atomics.wait(this.flag, 0, Atomics.load(this.flag, 0), 1);
      response = receiveMessageOnPort(this.port)?.message as LinkResponse | undefined;
    }
    if (!response) {
      this.broken = new SimulatorLostError(`${this.address}: no answer to ${what} within ${timeoutMs} ms (a slower simulator needs a longer ?timeout_ms=)`, this.address);
      this.close();
      throw this.broken;
    }
    if (!response.ok) {
      const err = response.lost
        ? new SimulatorLostError(`the simulator at ${response.endpoint} is gone: ${response.message} (during ${what})`, response.endpoint)
        : new WorldError(`the simulator at ${response.endpoint}: ${response.message}`);
      this.broken = err;
      this.close();
      throw err;
    }
    return response.frames.map((frame, s) => {
      if (!frame) return frame as unknown as Frame;
      const from = this.remote.endpoints[s].url;
      if (frame.type === FrameType.ERROR) {
        const e = parseJson(errorSchema, new BodyReader(frame.body, `ERROR from ${from}`).json('error'), `ERROR from ${from}`);
        // a refused request leaves the connection usable, except a protocol error
        if (e.code === 'protocol') { this.broken = new ProtocolError(`the simulator at ${from} refused ${what}: ${e.message}`, e.field ?? null); this.close(); throw this.broken; }
        throw new ProtocolError(`the simulator at ${from} refused ${what} (${e.code}): ${e.message}`, e.field ?? null);
      }
      if (frame.type !== expect) {
        this.broken = new ProtocolError(`the simulator at ${from} answered ${what} with a ${FRAME_NAMES[frame.type] ?? `frame of unknown type ${frame.type}`}; expected ${FRAME_NAMES[expect]}`, 'type');
        this.close();
        throw this.broken;
      }
      return frame;
    });
  }

  private shareOf(env: number): number {
    return this.shares.findIndex((s) => env >= s.offset && env < s.offset + s.envs);
  }

  private agentIndex(agent: string | number): number {
    return agentIndexIn(this, agent);
  }

  private checkEnv(env: number): void {
    checkEnvIndex(this, env);
  }
}

/** Opens the remote world at `address` (remote:tcp://host:port[,…][?timeout_ms=N]). */
export function openRemoteWorld(address: string, options: RemoteWorldOptions = {}): RemoteWorld {
  return new RemoteWorld(address, options);
}
