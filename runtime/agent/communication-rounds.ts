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
import { NOTHING_HEARD, type ExpectedPeers, type RoundInbox } from './round-inbox.js';
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
  /** where this agent's messages go */
  private readonly topic: string;
  /** the round's test of who is expected, made once (a decision asks it at every message) */
  private readonly everyLiveSettled: ExpectedPeers;
  private readonly everyPeerSettled: ExpectedPeers;

  constructor(private readonly c: RoundsContext) {
    this.inboxInput = new Float32Array(c.capacity * c.messageSize);
    this.maskInput = new Float32Array(c.capacity);
    this.topic = agentTopic(c.fleet, c.agentId, 'msg');
    this.everyLiveSettled = (settled) => this.c.liveness.everyLive(settled);
    this.everyPeerSettled = (settled) => this.c.peers.every(settled);
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
    let started = performance.now();
    if (policy.rounds === 0) {
      const out = this.timed(await policy.act(o.values, agentIdInput, { actionOnly: true, state: memory }), started);
      return decision(out, 'full', [], 'mlp', this.inferenceMs, 0, 0, [], [], out.nextState ?? null);
    }
    if (!transport?.connected) {
      const out = this.timed(await policy.act(o.values, agentIdInput, { fallback: true, actionOnly: true, state: memory }), started);
      return decision(out, 'none', [], 'fallback', this.inferenceMs, 0, 0, [], [], out.nextState ?? null);
    }
    const first = this.timed(await policy.stage0(o.values, agentIdInput, memory), started);
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
    let previous: ReadonlyMap<string, PeerMessage> = NOTHING_HEARD;
    // (the checks' copy of this agent's own message as its peers decode it)
    const ownSent = consistency ? new Float32Array(this.c.messageSize) : null;
    const heard: string[][] = [];
    const rounds: RoundRecord[] = [];
    const inputs: Decision['inputs'] = [];
    let waitingMs = 0;
    let lateRounds = 0;
    let heardAll = true;
    let heardAny = false;
    let out: PolicyOutput | null = null;
    const H = this.c.messageSize;
    const topic = this.topic;
    const peers = this.c.peers;
    for (let round = 1; round <= policy.rounds; round++) {
      inbox.enter(o.tick, round);
      const encoded = encodeMessage(message, this.c.quantization);
      // round k's check needs this agent's round-(k−1) message as the peers decode it
      const ownPrevious = ownSent && round >= 2 ? ownSent.slice() : null;
      if (ownSent) decodeMessage(encoded, this.c.quantization, ownSent);
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
        ? await inbox.waitFor(o.tick, round, this.everyLiveSettled, this.c.roundDeadlineMs)
        : await inbox.waitFor(o.tick, round, this.everyPeerSettled, logical);
      const waitedMs = performance.now() - waitStart;
      waitingMs += waitedMs;
      if (timedOut) {
        metrics.deadlineMiss();
        lateRounds++;
      }
      const record: RoundRecord | null = this.c.trace ? { round, inbox: [], timedOut, waitedMs } : null;
      const messages = inbox.messages(o.tick, round);
      let suspects: ReadonlySet<string> | null = null;
      if (consistency && ownPrevious) {
        started = performance.now();
        suspects = this.timed(await consistency.check(policy, round, ownPrevious, previous, messages), started);
      }
      previous = messages;
      const leftOut = (peer: string) => consistency !== null && (suspects?.has(peer) === true || consistency.isQuarantined(peer));
      this.inboxInput.fill(0);
      this.maskInput.fill(0);
      const roundHeard: string[] = [];
      // heard from every peer expected: a peer on standby (not in the episode) was not expected, a
      // peer whose message the checks left out was not heard either, and a peer that chose
      // silence is not missing: the round is as its policy made it
      let roundFull = true;
      for (let slot = 0; slot < peers.length; slot++) {
        const peer = peers[slot];
        const m = messages.get(peer);
        if (!m || leftOut(peer)) {
          roundFull &&= this.c.liveness.isOnStandby(peer) || inbox.isSilent(o.tick, round, peer);
          continue;
        }
        decodeMessage(m, this.c.quantization, this.inboxInput.subarray(slot * H, (slot + 1) * H));
        this.maskInput[slot] = 1;
        roundHeard.push(peer);
        record?.inbox.push({ slot, payload: m.payload, scale: m.scale, sentUs: m.sentUs, receivedUs: inbox.arrivedUs(m) });
      }
      if (record) rounds.push(record);
      if (this.keepInputs) inputs.push({ inbox: this.inboxInput.slice(), mask: this.maskInput.slice() });
      heard.push(roundHeard);
      heardAll &&= roundFull;
      heardAny ||= roundHeard.length > 0;
      started = performance.now();
      // the last round and the final graph in one call (the same numbers, one call fewer)
      if (round === policy.rounds) out = this.timed(await policy.lastRoundAndFinal(state, this.inboxInput, this.maskInput, this.c.capacity, { actionOnly: true }), started);
      else ({ message, state } = this.timed(await policy.stage(round, state, this.inboxInput, this.maskInput, this.c.capacity), started));
    }
    const tier = heardAll ? 'full' : heardAny ? 'partial' : 'none';
    const made = decision(out!, tier, heard, 'rounds', this.inferenceMs, waitingMs, lateRounds, rounds, inputs, nextState);
    made.silent = silent;
    return made;
  }

  /**
   * Counts a graph call that started at `started` (performance.now()) and has just returned `out`:
   * ms in the graphs, for the decision and the metrics. (Timed where awaited, not by a wrapper: a
   * closure and a promise more per call, at every round of every agent, showed in the collector.)
   */
  private timed<T>(out: T, started: number): T {
    const ms = performance.now() - started;
    this.inferenceMs += ms;
    this.c.metrics.inferenceSeconds.observe(ms / 1000);
    return out;
  }
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, k) => v === b[k]);
}

/** A decision from a batch of one's output: its action index, or its vector for continuous actions. */
function decision(
  out: PolicyOutput, tier: Tier, heard: string[][], path: Decision['path'], inferenceMs: number, waitingMs: number, lateRounds: number,
  rounds: RoundRecord[], inputs: Decision['inputs'], nextState: Float32Array | null,
): Decision {
  const continuous = out.actions instanceof Float32Array;
  return {
    action: continuous ? 0 : out.actions[0], vector: continuous ? (out.actions as Float32Array).slice() : null,
    tier, heard, path, inferenceMs, waitingMs, lateRounds, rounds, inputs, nextState,
  };
}
