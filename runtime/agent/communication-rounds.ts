// One decision of a communicating policy (ARCHITECTURE.md, "Fallback tiers"):
//   stage 0 → publish the message → collect the round's inbox until every live peer answered or
//   the round deadline passed → stage k … → final → action,
// and which tier acted: full (every peer heard in every round), partial, or none (nobody heard,
// or no broker: the no-communication graph). An MLP policy has no rounds and always acts "full".

import type { PolicySession } from '@fleetmind/models';
import { agentTopic, decodeMessage, encodeMessage, encodePeerMessage, type PeerMessage, type Quantization, type RoundRecord, type Tier, type TickPath } from '@fleetmind/wire';
import type { ObservationIn } from '../adapters/adapter.js';
import type { PeerLiveness } from './liveness.js';
import type { PeerConsistency } from './peer-consistency.js';
import type { AgentMetrics } from './metrics.js';
import type { RoundInbox } from './round-inbox.js';
import type { Transport } from './transport.js';
import type { PolicyOutput } from '@fleetmind/models';

export interface Decision {
  /** the discrete action (0 for continuous actions) */
  action: number;
  /** continuous actions: the policy's vector (null for discrete ones) */
  vector: Float32Array | null;
  tier: Tier;
  /** per communication round, the peers heard */
  heard: string[][];
  /** which graphs decided */
  path: Exclude<TickPath, 'not_asked'>;
  /** ms in the policy's graphs, and waiting for peers */
  inferenceMs: number;
  waitingMs: number;
  /** the rounds that closed at their deadline with a live peer still unheard (counted as deadline misses) */
  lateRounds: number;
  /** with `trace`: each round's inbox as the graph was given it (a recording replays it) */
  rounds: RoundRecord[];
  /** with keepInputs: each round's inbox and mask tensors as the graph was given them (a shadow policy decides on them) */
  inputs: { inbox: Float32Array; mask: Float32Array }[];
  /** a recurrent policy: the state its next decision starts from */
  nextState: Float32Array | null;
  /** a gated policy chose not to speak this tick (absent: it spoke, or has no gate) */
  silent?: boolean;
}

export interface RoundsContext {
  fleet: string;
  agentId: string;
  /** the peers, in the order of their inbox slots */
  peers: readonly string[];
  policy: PolicySession;
  /** this agent's one-hot index input */
  agentIdInput: Float32Array;
  messageSize: number;
  quantization: Quantization;
  /** inbox slots of the bundle's graphs */
  capacity: number;
  inbox: RoundInbox;
  liveness: PeerLiveness;
  roundDeadlineMs: number;
  /**
   * a simulated network sends LostNotices: wait for every peer's message or notice (not only the
   * live ones, whose liveness is a wall-clock judgement), at most this long — the tick budget, a
   * safety net; null: wait for live peers until the round deadline
   */
  logicalRoundLimitMs: number | null;
  metrics: AgentMetrics;
  /** null: no broker (the no-communication graph acts) */
  transport: Transport | null;
  /** keep each round's inbox in the decision (a flight recorder is on) */
  trace: boolean;
  /** check peers' messages against the policy's arithmetic and leave out liars (peer-consistency.ts); null: off */
  consistency: PeerConsistency | null;
}

const nowUs = () => Date.now() * 1000;

export class CommunicationRounds {
  /** reused inputs of the rounds */
  private readonly inboxInput: Float32Array;
  private readonly maskInput: Float32Array;
  /** ms in the graphs during the current decision */
  private inferenceMs = 0;
  /** keep copies of each round's inbox and mask in the decision (a shadow policy runs: shadow.ts) */
  keepInputs = false;

  constructor(private readonly c: RoundsContext) {
    this.inboxInput = new Float32Array(c.capacity * c.messageSize);
    this.maskInput = new Float32Array(c.capacity);
  }

  /** A rollout's policy from this decision on (the same message layout: installed-policy.ts). */
  usePolicy(policy: PolicySession, agentIdInput: Float32Array): void {
    this.c.policy = policy;
    this.c.agentIdInput = agentIdInput;
  }

  /** memory: a recurrent policy's state (recurrent-memory.ts) */
  async decide(o: ObservationIn, memory?: Float32Array): Promise<Decision> {
    const { policy, agentIdInput, transport, inbox, metrics } = this.c;
    this.inferenceMs = 0;
    if (policy.rounds === 0) {
      const out = await this.infer(() => policy.act(o.values, agentIdInput, { actionOnly: true, state: memory }));
      return { ...chosen(out), tier: 'full', heard: [], path: 'mlp', inferenceMs: this.inferenceMs, waitingMs: 0, lateRounds: 0, rounds: [], inputs: [], nextState: out.nextState ?? null };
    }
    if (!transport?.connected) {
      const out = await this.infer(() => policy.act(o.values, agentIdInput, { fallback: true, actionOnly: true, state: memory }));
      return { ...chosen(out), tier: 'none', heard: [], path: 'fallback', inferenceMs: this.inferenceMs, waitingMs: 0, lateRounds: 0, rounds: [], inputs: [], nextState: out.nextState ?? null };
    }
    const first = await this.infer(() => policy.stage0(o.values, agentIdInput, memory));
    let { message, state } = first;
    // a gated policy chose silence: one empty message in round 1 says so, and it still hears the others
    const silent = first.speaks?.[0] === 0;
    // a CommNet-GRU's next state is its h⁰
    const nextState = memory ? state.slice() : null;
    // the check reads a peer's message as its state: a bundle whose messages are not its states cannot be checked
    if (this.c.consistency && !sameValues(message, state)) {
      this.c.consistency = null;
      metrics.peerChecksUnavailable();
    }
    const consistency = this.c.consistency;
    let previous: ReadonlyMap<string, PeerMessage> = new Map();
    const ownSent = new Float32Array(this.c.messageSize);
    const heard: string[][] = [];
    const rounds: RoundRecord[] = [];
    const inputs: Decision['inputs'] = [];
    let waitingMs = 0;
    let lateRounds = 0;
    let heardAll = true;
    let heardAny = false;
    let out: PolicyOutput | null = null;
    const H = this.c.messageSize;
    const topic = agentTopic(this.c.fleet, this.c.agentId, 'msg');
    for (let round = 1; round <= policy.rounds; round++) {
      inbox.enter(o.tick, round);
      const encoded = encodeMessage(message, this.c.quantization);
      // round k's check needs this agent's round-(k−1) message as the peers decode it
      const ownPrevious = consistency && round >= 2 ? ownSent.slice() : null;
      if (consistency) decodeMessage(encoded, this.c.quantization, ownSent);
      if (!silent) {
        const sent = transport.publishNow(topic, encodePeerMessage({
          fleet: this.c.fleet, agent: this.c.agentId, tick: o.tick, round, payload: encoded.payload, scale: encoded.scale, sentUs: nowUs(), episode: o.episode ?? 0,
        }));
        if (sent) metrics.messageSent();
        else metrics.messageUnsent();
      } else if (round === 1) {
        transport.publishNow(topic, encodePeerMessage({
          fleet: this.c.fleet, agent: this.c.agentId, tick: o.tick, round, payload: new Uint8Array(0), scale: 0, sentUs: nowUs(), episode: o.episode ?? 0, silent: true,
        }));
        metrics.silentTick();
      }
      const logical = this.c.logicalRoundLimitMs;
      const waitStart = performance.now();
      const timedOut = logical === null
        ? await inbox.waitFor(o.tick, round, (settled) => this.c.liveness.everyLive(settled), this.c.roundDeadlineMs)
        : await inbox.waitFor(o.tick, round, (settled) => this.c.peers.every(settled), logical);
      const waitedMs = performance.now() - waitStart;
      waitingMs += waitedMs;
      if (timedOut) {
        metrics.deadlineMiss();
        lateRounds++;
      }
      const record: RoundRecord | null = this.c.trace ? { round, inbox: [], timedOut, waitedMs } : null;
      const messages = inbox.messages(o.tick, round);
      const suspects = consistency && ownPrevious ? await this.infer(() => consistency.check(policy, round, ownPrevious, previous, messages)) : null;
      previous = messages;
      const leftOut = (peer: string) => Boolean(suspects?.has(peer) || consistency?.isQuarantined(peer));
      this.inboxInput.fill(0);
      this.maskInput.fill(0);
      const roundHeard: string[] = [];
      this.c.peers.forEach((peer, slot) => {
        const m = messages.get(peer);
        if (!m || leftOut(peer)) return;
        decodeMessage(m, this.c.quantization, this.inboxInput.subarray(slot * H, (slot + 1) * H));
        this.maskInput[slot] = 1;
        roundHeard.push(peer);
        record?.inbox.push({ slot, payload: m.payload, scale: m.scale, sentUs: m.sentUs, receivedUs: inbox.arrivedUs(m) });
      });
      if (record) rounds.push(record);
      if (this.keepInputs) inputs.push({ inbox: this.inboxInput.slice(), mask: this.maskInput.slice() });
      heard.push(roundHeard);
      // a peer on standby (not in the episode) was not expected: a round without it is still full
      // a peer whose message was left out by the checks was not heard either
      // and a peer that chose silence is not missing: the round is as its policy made it
      heardAll &&= this.c.peers.every((peer) => (messages.has(peer) && !leftOut(peer)) || this.c.liveness.isOnStandby(peer) || inbox.isSilent(o.tick, round, peer));
      heardAny ||= roundHeard.length > 0;
      // the last round and the final graph in one call (the same numbers, one call fewer)
      if (round === policy.rounds) out = await this.infer(() => policy.lastRoundAndFinal(state, this.inboxInput, this.maskInput, this.c.capacity, { actionOnly: true }));
      else ({ message, state } = await this.infer(() => policy.stage(round, state, this.inboxInput, this.maskInput, this.c.capacity)));
    }
    return { ...chosen(out!), tier: heardAll ? 'full' : heardAny ? 'partial' : 'none', heard, path: 'rounds', inferenceMs: this.inferenceMs, waitingMs, lateRounds, rounds, inputs, nextState, silent };
  }

  private async infer<T>(call: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const out = await call();
    const ms = performance.now() - t0;
    this.inferenceMs += ms;
    this.c.metrics.inferenceSeconds.observe(ms / 1000);
    return out;
  }
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, k) => v === b[k]);
}

/** A batch of one's action: its index, or its vector for continuous actions. */
function chosen(out: PolicyOutput): { action: number; vector: Float32Array | null } {
  return out.actions instanceof Float32Array ? { action: 0, vector: out.actions.slice() } : { action: out.actions[0], vector: null };
}
