// A defence against a lying peer that works on the robot, with the policy as trained: check that
// each peer's messages follow CommNet's own arithmetic, leave out a message that does not, and
// quarantine a peer that keeps failing.
//
// In CommNet a peer's round-k message (k ≥ 2) is what stage k−1 makes of its round-(k−1) message
// (its state) and the mean of the round-(k−1) messages it heard. Those are on the wire: every
// agent of a team hears the same bytes. So an agent can compute what peer j should have said in
// round k, from what j said in round k−1 and what the team said then, and compare. A peer that
// sends plausible-looking but made-up messages (the simulator's `hostile` fault: random values of
// a plausible scale) fails at once; an honest one passes up to the wire's quantization.
//
// What j heard in round k−1 is not known for sure: a message to j may have been lost. The check
// tries every subset of the messages j could have heard (the full set and each one left out,
// beyond MAX_EXACT_SUBSET_PEERS peers) and takes the closest. It gives no verdict when this agent
// missed a round-(k−1) message itself (j may have heard it), and it assumes a team in which every
// agent hears every other (the bundle's teammates); a fleet with nearest-peer inboxes should keep
// it off. A peer that learns the arithmetic and lies consistently from a made-up state is not
// caught by this; it would need a behavioural check (its actions against its messages).

import type { PolicySession } from '@fleetmind/models';
import { decodeMessage, type PeerMessage, type Quantization } from '@fleetmind/wire';
import { concatRows } from './float-rows.js';

/**
 * RMS distance (over the message's values) beyond which a message is inconsistent. An honest int8
 * peer of the zoo CommNet is within 0.01 (test/runtime/peer-consistency.test.ts); a message of
 * random values of the same scale is about 0.5 away.
 */
export const CONSISTENCY_TOLERANCE = 0.05;
/** consecutive inconsistent rounds that quarantine a peer */
export const QUARANTINE_STRIKES = 2;
/** consecutive consistent rounds that release a quarantined peer */
export const RELEASE_AFTER = 20;
/** up to this many possible senders, every subset of them is tried; beyond, the full set and each one left out */
const MAX_EXACT_SUBSET_PEERS = 4;

/** What the checks found, as it happens (the agent counts and logs it). */
export interface ConsistencyEvents {
  checked(peer: string, consistent: boolean, distance: number): void;
  quarantined(peer: string): void;
  released(peer: string): void;
}

export interface PeerConsistencyContext {
  self: string;
  /** the team, in inbox slot order */
  peers: readonly string[];
  messageSize: number;
  capacity: number;
  quantization: Quantization;
  /** peers known to be out of the round (dead, on standby): nobody heard them */
  absent: (peer: string) => boolean;
  events: ConsistencyEvents;
}

export class PeerConsistency {
  private readonly strikes = new Map<string, number>();
  private readonly clean = new Map<string, number>();
  private readonly quarantine = new Set<string>();

  constructor(private readonly c: PeerConsistencyContext) {}

  isQuarantined(peer: string): boolean {
    return this.quarantine.has(peer);
  }

  /**
   * Round k ≥ 2 (stage k−1 made its messages). ownPrevious: this agent's round-(k−1) message as
   * its peers decoded it; previous / current: the messages heard in rounds k−1 and k. Returns the
   * peers whose round-k message is inconsistent: leave them out of this round. policy: the one
   * deciding now (a rollout may have switched it).
   */
  async check(policy: PolicySession, round: number, ownPrevious: Float32Array, previous: ReadonlyMap<string, PeerMessage>, current: ReadonlyMap<string, PeerMessage>): Promise<Set<string>> {
    const { messageSize: H, capacity: C, peers, quantization } = this.c;
    const suspects = new Set<string>();
    // a round-(k−1) message this agent missed may be one the peer heard: no verdict this round
    const team = peers.filter((p) => !this.c.absent(p));
    if (team.some((p) => !previous.has(p))) return suspects;
    const decoded = new Map<string, Float32Array>();
    const read = (m: PeerMessage): Float32Array | null => {
      let v = decoded.get(m.agent);
      if (!v) {
        v = new Float32Array(H);
        try { decodeMessage(m, quantization, v); } catch { return null; }
        decoded.set(m.agent, v);
      }
      return v;
    };
    type Case = { peer: string; claimed: Float32Array; first: number; count: number };
    const cases: Case[] = [];
    const states: Float32Array[] = [];
    const inboxes: Float32Array[] = [];
    const masks: Float32Array[] = [];
    for (const peer of team) {
      const now = current.get(peer);
      const before = previous.get(peer);
      if (!now || !before) continue;
      const claimed = new Float32Array(H);
      try { decodeMessage(now, quantization, claimed); } catch { continue; }
      const state = read(before);
      if (!state) continue;
      // what the peer could have heard in round k−1: this agent's message and the others'
      const heardBy = [ownPrevious, ...team.filter((p) => p !== peer).map((p) => read(previous.get(p)!))];
      if (heardBy.some((v) => v === null) || heardBy.length > C) continue;
      const first = states.length;
      for (const subset of senderSubsets(heardBy.length)) {
        const inbox = new Float32Array(C * H);
        const mask = new Float32Array(C);
        subset.forEach((sender, slot) => { inbox.set(heardBy[sender]!, slot * H); mask[slot] = 1; });
        states.push(state);
        inboxes.push(inbox);
        masks.push(mask);
      }
      cases.push({ peer, claimed, first, count: states.length - first });
    }
    if (cases.length === 0) return suspects;
    const predicted = (await policy.stage(round - 1, concatRows(states), concatRows(inboxes), concatRows(masks), C)).message;
    for (const { peer, claimed, first, count } of cases) {
      let best = Infinity;
      for (let row = first; row < first + count; row++) best = Math.min(best, rmsDistance(predicted.subarray(row * H, (row + 1) * H), claimed));
      const consistent = best <= CONSISTENCY_TOLERANCE; // NaN: not
      this.c.events.checked(peer, consistent, best);
      if (!consistent) suspects.add(peer);
      this.verdict(peer, consistent);
    }
    return suspects;
  }

  private verdict(peer: string, consistent: boolean): void {
    if (consistent) {
      this.strikes.set(peer, 0);
      const clean = (this.clean.get(peer) ?? 0) + 1;
      this.clean.set(peer, clean);
      if (this.quarantine.has(peer) && clean >= RELEASE_AFTER) {
        this.quarantine.delete(peer);
        this.c.events.released(peer);
      }
      return;
    }
    this.clean.set(peer, 0);
    const strikes = (this.strikes.get(peer) ?? 0) + 1;
    this.strikes.set(peer, strikes);
    if (!this.quarantine.has(peer) && strikes >= QUARANTINE_STRIKES) {
      this.quarantine.add(peer);
      this.c.events.quarantined(peer);
    }
  }
}

/** The subsets of n senders a peer may have heard, as index lists: all of them for small n, else the full set and each one left out. */
function senderSubsets(n: number): number[][] {
  const all = Array.from({ length: n }, (_, k) => k);
  if (n <= MAX_EXACT_SUBSET_PEERS) {
    return Array.from({ length: 2 ** n }, (_, bits) => all.filter((k) => (bits >> k) & 1));
  }
  return [all, ...all.map((drop) => all.filter((k) => k !== drop))];
}

function rmsDistance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let k = 0; k < a.length; k++) sum += (a[k] - b[k]) ** 2;
  return Math.sqrt(sum / a.length);
}
