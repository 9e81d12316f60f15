// Peers' messages for each (tick, round), and waiting for a round to complete: until every
// expected peer's message is in (or, in a simulation, its LostNotice) or the deadline passes. Peers may run a tick ahead (the world's
// observations reach agents at different moments), so messages for the next few ticks are kept;
// older ones are stale. Every refusal has a reason the agent counts.
//
// An agent that leaves the episode (standby) cannot know at which tick it will be back, while its
// peers' messages for that tick may reach it before its own observation does: released, the
// inbox takes messages for any tick but keeps only the newest tick's (bounded all the same).
//
// Episodes (wire 1.2) restart the ticks. Peers may start the next episode before this agent
// does: their messages for it, and a simulator's notices of its losses there (wire 1.7), are kept
// aside (bounded) until the agent starts it too. On standby
// the agent may sit out whole episodes: of the newest episode heard it keeps only the newest
// tick's messages (the tick it may come back at), and an episode between its last and the one it
// comes back in is one it sat out, not a stale one.

import { MAX_COMMUNICATION_ROUNDS } from '@fleetmind/models';
import { tickDistance, type LostNotice, type PeerMessage } from '@fleetmind/wire';

/** sat_out: for a tick before the one this agent came back from standby at — not its round, not a fault */
export type InboxRefusal = 'stale' | 'duplicate' | 'too_early' | 'bad_round' | 'unknown_sender' | 'sat_out';

/** messages further ahead than this many ticks are refused (bounded memory against a hostile peer) */
const TICKS_AHEAD = 4;

/**
 * A round's settling news about one peer: its message, a notice that it is lost, or its chosen
 * silence (a notice's episode, absent or 0, is the agent's current one).
 */
type Arrival =
  | { kind: 'message'; m: PeerMessage }
  | { kind: 'lost' | 'silent'; m: LostNotice };

/**
 * (tick, round) as one number, the maps' key: tick · ROUNDS_PER_KEY + round. A number, not a
 * string: every message and every round entered makes or reads keys (ticks < 2^32, so keys stay
 * exact integers).
 */
const ROUNDS_PER_KEY = MAX_COMMUNICATION_ROUNDS + 1;
const keyOf = (tick: number, round: number) => tick * ROUNDS_PER_KEY + round;
const tickOf = (key: number) => Math.floor(key / ROUNDS_PER_KEY);
const roundOf = (key: number) => key % ROUNDS_PER_KEY;
/** a round's messages before any arrived */
export const NOTHING_HEARD: ReadonlyMap<string, PeerMessage> = new Map();

/**
 * The peers a round waits for, asked whether every one of them is settled (its message or a
 * notice is in): asked at every message, so it is a test, not a list to allocate.
 */
export type ExpectedPeers = (settled: (peer: string) => boolean) => boolean;

interface Waiter {
  tick: number;
  round: number;
  expected: ExpectedPeers;
  resolve: (timedOut: boolean) => void;
  timer: NodeJS.Timeout;
}

export class RoundInbox {
  /** keyOf(tick, round) → sender → message */
  private readonly held = new Map<number, Map<string, PeerMessage>>();
  /** keyOf(tick, round) → sender → when its message arrived, µs since the epoch (recordings show it) */
  private readonly arrivals = new Map<number, Map<string, number>>();
  /** keyOf(tick, round) → senders whose message a simulated network said is lost (or that abstained) */
  private readonly lost = new Map<number, Set<string>>();
  /** keyOf(tick, round) → senders whose policy chose silence (wire 1.6): not heard, and not missing either */
  private readonly silent = new Map<number, Set<string>>();
  /** the four maps above, for forgetting what is stale in all of them */
  private readonly keyed: Map<number, unknown>[] = [this.held, this.arrivals, this.lost, this.silent];
  private tick = -1;
  private round = 0;
  /** on standby: no current tick; the newest tick heard so far (-1: none) */
  private released = false;
  private newest = -1;
  /** the tick the agent came back from standby at (-1: it has not been on standby this episode) */
  private rejoinedAt = -1;
  private waiter: Waiter | null = null;
  /** the episode the agent is in; messages of an older one are stale */
  private episode = 0;
  /** messages and notices of the next episode, which peers started first */
  private early: { episode: number; arrivals: Arrival[] } | null = null;
  /** the episode the agent was in before this one: messages of the episodes between were of ones it sat out */
  private previousEpisode = 0;
  /** where it left that episode on standby, its last tick entered (-1: none), or null: it played it to the end */
  private previousLeftAt: number | null = null;

  /** stampArrivals: keep when each message arrived (a flight recorder is on) */
  constructor(private readonly peers: ReadonlySet<string>, private readonly rounds: number, private readonly stampArrivals = false) {
    if (rounds >= ROUNDS_PER_KEY) throw new Error(`an inbox for ${rounds} rounds a tick: at most ${ROUNDS_PER_KEY - 1}`);
  }

  /** Starts (tick, round): older messages become stale and are forgotten. */
  enter(tick: number, round: number): void {
    if (this.released) this.rejoinedAt = tick;
    this.tick = tick;
    this.round = round;
    this.released = false;
    for (const map of this.keyed) {
      for (const key of map.keys()) {
        const ago = tickDistance(tick, tickOf(key));
        if (ago > 0 || (ago === 0 && roundOf(key) < round)) map.delete(key);
      }
    }
  }

  /** The agent left the episode: until it enters a tick again, keep the newest tick's messages, whatever it is. */
  release(): void {
    this.released = true;
    this.newest = -1;
  }

  /** Released: a message or notice for a newer tick makes the older ones useless; an older one is of a tick it sits out. */
  private follow(tick: number): InboxRefusal | null {
    if (!this.released) return null;
    if (this.newest >= 0 && tickDistance(tick, this.newest) < 0) return 'sat_out';
    if (this.newest < 0 || tickDistance(tick, this.newest) > 0) {
      this.newest = tick;
      for (const map of this.keyed) {
        for (const key of map.keys()) if (tickOf(key) !== tick) map.delete(key);
      }
    }
    return null;
  }

  /**
   * The agent starts another episode: everything of the last one goes; what peers sent for this one
   * early is filed. An agent on standby comes back in it at its first tick entered, and what peers
   * sent before that tick is of ticks it sat out.
   */
  newEpisode(episode: number): void {
    this.previousEpisode = this.episode;
    this.previousLeftAt = this.released ? this.tick : null;
    this.episode = episode;
    this.tick = -1;
    this.round = 0;
    // (still released: the tick it enters first is the one it came back at)
    this.newest = -1;
    this.rejoinedAt = -1;
    for (const map of this.keyed) map.clear();
    const early = this.early;
    this.early = null;
    if (early?.episode === episode) for (const a of early.arrivals) this.file(a);
  }

  private file(a: Arrival): InboxRefusal | null {
    return a.kind === 'message' ? this.put(a.m) : a.kind === 'lost' ? this.markLost(a.m) : this.markSilent(a.m);
  }

  /** Files a message, or says why it was refused. */
  put(m: PeerMessage): InboxRefusal | null {
    const episode = m.episode ?? 0;
    if (episode !== this.episode) return this.putEarly({ kind: 'message', m }, episode);
    const refusal = this.admissible(m) ?? this.follow(m.tick);
    if (refusal) return refusal;
    const key = keyOf(m.tick, m.round);
    let bySender = this.held.get(key);
    if (!bySender) this.held.set(key, (bySender = new Map()));
    if (bySender.has(m.agent)) return 'duplicate';
    bySender.set(m.agent, m);
    if (this.stampArrivals) {
      let times = this.arrivals.get(key);
      if (!times) this.arrivals.set(key, (times = new Map()));
      times.set(m.agent, Date.now() * 1000);
    }
    this.check();
    return null;
  }

  /** A message or notice of another episode: an older one's is stale, or of a tick it sat out; a newer one's waits, bounded, for the agent to start it. */
  private putEarly(a: Arrival, episode: number): InboxRefusal | null {
    if (tickDistance(episode, this.episode) < 0) return this.satOut(episode, a.m.tick) ? 'sat_out' : 'stale';
    if (!this.peers.has(a.m.agent)) return 'unknown_sender';
    // (an episode older than the one kept aside: peers are past it, so this agent sits it out)
    if (this.early && tickDistance(episode, this.early.episode) < 0) return 'sat_out';
    if (this.early?.episode !== episode) this.early = { episode, arrivals: [] }; // a newer episode replaces the kept one
    if (this.released) {
      // on standby: only the newest tick's messages can be of the tick it comes back at
      const newest = this.early.arrivals.at(-1)?.m.tick;
      if (newest !== undefined && tickDistance(a.m.tick, newest) < 0) return 'sat_out';
      if (newest !== undefined && tickDistance(a.m.tick, newest) > 0) this.early.arrivals = [];
    }
    // a slot can have a message and a notice (a corrupted message is announced lost and still arrives)
    if (this.early.arrivals.length >= 2 * this.peers.size * this.rounds * (TICKS_AHEAD + 1)) return 'too_early';
    this.early.arrivals.push(a);
    return null;
  }

  /**
   * Whether (episode, tick), of an episode before this one, is of a tick the agent sat out: in an
   * episode between its last and this one, or in its last after it left it on standby (a peer's
   * message of that episode's last tick can reach it after the world has started it on the next).
   */
  private satOut(episode: number, tick: number): boolean {
    if (tickDistance(episode, this.previousEpisode) > 0) return true;
    const leftAt = this.previousLeftAt;
    return episode === this.previousEpisode && leftAt !== null && (leftAt < 0 || tickDistance(tick, leftAt) > 0);
  }

  /** A notice's episode: one that does not say is of the current episode (a 1.6 simulator's notices, an agent that uses no episodes). */
  private otherEpisode(slot: LostNotice): number | null {
    const episode = slot.episode || this.episode;
    return episode === this.episode ? null : episode;
  }

  /** Files a notice that `notice.agent`'s message will not come (a simulated network's, or the peer's own abstention), or says why it was refused. */
  markLost(notice: LostNotice): InboxRefusal | null {
    const episode = this.otherEpisode(notice);
    if (episode !== null) return this.putEarly({ kind: 'lost', m: notice }, episode);
    const refusal = this.admissible(notice) ?? this.follow(notice.tick);
    if (refusal) return refusal;
    const key = keyOf(notice.tick, notice.round);
    let senders = this.lost.get(key);
    if (!senders) this.lost.set(key, (senders = new Set()));
    if (senders.has(notice.agent)) return 'duplicate';
    senders.add(notice.agent);
    this.check();
    return null;
  }

  /**
   * Files a peer's chosen silence (wire 1.6, sent in round 1): nothing to wait for from it in any
   * round of the tick, and nothing missing either. Or says why it was refused.
   */
  markSilent(m: LostNotice): InboxRefusal | null {
    const episode = this.otherEpisode(m);
    if (episode !== null) return this.putEarly({ kind: 'silent', m }, episode);
    const refusal = this.admissible(m) ?? this.follow(m.tick);
    if (refusal) return refusal;
    if (this.silent.get(keyOf(m.tick, 1))?.has(m.agent)) return 'duplicate';
    for (let round = 1; round <= this.rounds; round++) {
      for (const map of [this.lost, this.silent]) {
        const key = keyOf(m.tick, round);
        let senders = map.get(key);
        if (!senders) map.set(key, (senders = new Set()));
        senders.add(m.agent);
      }
    }
    this.check();
    return null;
  }

  /** Whether `peer` chose silence for (tick, round). */
  isSilent(tick: number, round: number, peer: string): boolean {
    return this.silent.get(keyOf(tick, round))?.has(peer) === true;
  }

  private admissible(m: { agent: string; tick: number; round: number }): InboxRefusal | null {
    if (!this.peers.has(m.agent)) return 'unknown_sender';
    if (m.round < 1 || m.round > this.rounds) return 'bad_round';
    // a peer's message of a tick this agent sat out can reach it after it came back (the world
    // hands it the next observation while the broker still carries the last tick's messages)
    if (this.rejoinedAt >= 0 && tickDistance(m.tick, this.rejoinedAt) < 0) return 'sat_out';
    if (this.tick >= 0 && !this.released) {
      // ticks wrap at 2^32 (wall-clock ticks of free-running agents): compare by distance
      const ahead = tickDistance(m.tick, this.tick);
      if (ahead < 0 || (ahead === 0 && m.round < this.round)) return 'stale';
      if (ahead > TICKS_AHEAD) return 'too_early';
    }
    return null;
  }

  /** Messages heard so far for (tick, round), by sender. */
  messages(tick: number, round: number): ReadonlyMap<string, PeerMessage> {
    return this.held.get(keyOf(tick, round)) ?? NOTHING_HEARD;
  }

  /** When a held message arrived, µs since the epoch (0 unless the inbox stamps arrivals). */
  arrivedUs(m: PeerMessage): number {
    return this.arrivals.get(keyOf(m.tick, m.round))?.get(m.agent) ?? 0;
  }

  /**
   * Resolves when every expected peer has a message (or a notice that it is lost) for (tick, round) — false — or when
   * deadlineMs passes first — true. expected is asked again whenever something changes.
   */
  waitFor(tick: number, round: number, expected: ExpectedPeers, deadlineMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(true), deadlineMs);
      this.waiter = { tick, round, expected, resolve, timer };
      this.check();
    });
  }

  /** Something other than a message changed what is expected (a peer went offline). */
  recheck(): void {
    this.check();
  }

  private check(): void {
    const w = this.waiter;
    if (!w) return;
    const key = keyOf(w.tick, w.round);
    this.checkedHeld = this.held.get(key);
    this.checkedLost = this.lost.get(key);
    if (w.expected(this.settledInCheck)) this.settle(false);
  }

  /** the waited round's messages and notices, while check() asks whether every expected peer is settled */
  private checkedHeld: Map<string, PeerMessage> | undefined;
  private checkedLost: Set<string> | undefined;
  /** (one function for every check: asked at every message, it is not made anew each time) */
  private readonly settledInCheck = (peer: string): boolean => this.checkedHeld?.has(peer) === true || this.checkedLost?.has(peer) === true;

  private settle(timedOut: boolean): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = null;
    clearTimeout(w.timer);
    w.resolve(timedOut);
  }
}
