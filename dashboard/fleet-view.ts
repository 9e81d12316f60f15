// What the dashboard knows of a fleet, built from what crosses the broker: heartbeats (and the
// last will: offline at once), the agents' statuses, their peer messages (counted, for rates)
// and a simulator's world. An agent silent for longer than the peer timeout is offline too.
// Anything that does not decode is counted by reason and otherwise ignored.

import { decodeAgentStatus, decodeHeartbeat, decodeWorldStepRecord, parseTopic, TIERS, WireError, type AgentStatus, type Tier, type WorldStepRecord } from '@fleetmind/wire';

export interface AgentView {
  fleet: string;
  agent: string;
  state: 'online' | 'offline';
  /** why it is offline: its goodbye or last will, or silence past the peer timeout */
  offlineReason: 'announced' | 'silent' | null;
  /** ms since the epoch */
  lastSeenMs: number;
  offlineSinceMs: number | null;
  status: AgentStatus | null;
  /** the tier of most of its ticks between its last two statuses */
  tier: Tier | null;
  /** peer messages it published per second, over the last RATE_WINDOW_MS */
  messagesPerSecond: number;
}

export interface FleetSnapshot {
  atMs: number;
  agents: AgentView[];
  /** every agent's tier counts, summed */
  tiers: Record<Tier, number>;
  messagesPerSecond: number;
  deadlineMisses: number;
  messagesDropped: number;
  /** who heard whom in their last tick: [from, to] */
  edges: [string, string][];
  /** a simulator's last world step (positions as a plain array, for JSON) */
  world: (Omit<WorldStepRecord, 'positions'> & { positions: number[]; fleet: string; receivedMs: number }) | null;
  /** messages the dashboard could not read, by reason */
  refused: Record<string, number>;
}

interface Tracked extends AgentView {
  previousTiers: Record<Tier, number> | null;
  /** arrival times of its recent messages, ms (at most RATE_WINDOW_MS old) */
  messageTimes: number[];
}

const RATE_WINDOW_MS = 2_000;
/** agents the view keeps at most: a client inventing agent ids cannot grow it without bound */
export const MAX_AGENTS = 10_000;

export class FleetView {
  private readonly agents = new Map<string, Tracked>();
  private world: FleetSnapshot['world'] = null;
  private readonly refused: Record<string, number> = {};

  constructor(private readonly peerTimeoutMs: number) {}

  /** One MQTT message from the fleet's topics; false when it was refused (and counted). */
  receive(topic: string, payload: Uint8Array, nowMs = Date.now()): boolean {
    const t = parseTopic(topic);
    if (!t) return this.refuse('unknown_topic');
    try {
      if (t.kind === 'fleet') {
        if (t.channel === 'world') {
          const step = decodeWorldStepRecord(payload);
          this.world = { ...step, positions: Array.from(step.positions), fleet: t.fleet, receivedMs: nowMs };
        }
        return true;
      }
      if (t.kind === 'bundle_chunk') return true; // a rollout's bytes: nothing to show
      const a = this.agent(t.fleet, t.agent, nowMs);
      if (!a) return this.refuse('too_many_agents');
      if (t.channel === 'hb') {
        const hb = decodeHeartbeat(payload);
        if (hb.agent !== t.agent) return this.refuse('misaddressed');
        if (hb.online) this.seen(a, nowMs);
        else this.offline(a, 'announced', nowMs);
      } else if (t.channel === 'status') {
        const status = decodeAgentStatus(payload);
        if (status.agent !== t.agent) return this.refuse('misaddressed');
        this.seen(a, nowMs);
        if (a.previousTiers) {
          const delta = TIERS.map((tier) => status.tiers[tier] - a.previousTiers![tier]);
          const most = Math.max(...delta);
          if (most > 0) a.tier = TIERS[delta.indexOf(most)];
        }
        a.previousTiers = status.tiers;
        a.status = status;
      } else if (t.channel === 'msg') {
        this.seen(a, nowMs);
        a.messageTimes.push(nowMs);
        if (a.messageTimes.length > 4_096) forget(a.messageTimes, nowMs);
      }
      return true;
    } catch (err) {
      if (err instanceof WireError) return this.refuse(err.reason);
      throw err;
    }
  }

  /** The fleet now. */
  snapshot(nowMs = Date.now()): FleetSnapshot {
    const tiers: Record<Tier, number> = { full: 0, partial: 0, none: 0, safe: 0 };
    let deadlineMisses = 0;
    let messagesDropped = 0;
    let messagesPerSecond = 0;
    const edges: [string, string][] = [];
    const agents: AgentView[] = [];
    for (const a of [...this.agents.values()].sort((x, y) => (x.fleet + x.agent).localeCompare(y.fleet + y.agent, 'en', { numeric: true }))) {
      if (a.state === 'online' && nowMs - a.lastSeenMs > this.peerTimeoutMs) this.offline(a, 'silent', a.lastSeenMs + this.peerTimeoutMs);
      forget(a.messageTimes, nowMs);
      a.messagesPerSecond = a.messageTimes.length / (RATE_WINDOW_MS / 1000);
      messagesPerSecond += a.messagesPerSecond;
      if (a.status) {
        for (const tier of TIERS) tiers[tier] += a.status.tiers[tier];
        deadlineMisses += a.status.deadlineMisses;
        messagesDropped += a.status.messagesDropped;
        if (a.state === 'online') for (const peer of a.status.heard) edges.push([peer, a.agent]);
      }
      const { previousTiers: _previous, messageTimes: _times, ...view } = a;
      agents.push(view);
    }
    return { atMs: nowMs, agents, tiers, messagesPerSecond, deadlineMisses, messagesDropped, edges, world: this.world, refused: { ...this.refused } };
  }

  private agent(fleet: string, agent: string, nowMs: number): Tracked | null {
    const key = `${fleet}/${agent}`;
    let a = this.agents.get(key);
    if (!a) {
      if (this.agents.size >= MAX_AGENTS) return null;
      a = { fleet, agent, state: 'offline', offlineReason: null, lastSeenMs: nowMs, offlineSinceMs: null, status: null, tier: null, messagesPerSecond: 0, previousTiers: null, messageTimes: [] };
      this.agents.set(key, a);
    }
    return a;
  }

  private seen(a: Tracked, nowMs: number): void {
    a.lastSeenMs = nowMs;
    a.state = 'online';
    a.offlineReason = null;
    a.offlineSinceMs = null;
  }

  private offline(a: Tracked, reason: 'announced' | 'silent', sinceMs: number): void {
    if (a.state === 'offline' && a.offlineReason) return;
    a.state = 'offline';
    a.offlineReason = reason;
    a.offlineSinceMs = sinceMs;
  }

  private refuse(reason: string): false {
    this.refused[reason] = (this.refused[reason] ?? 0) + 1;
    return false;
  }
}

/** Drops the times older than the rate window (they are in arrival order). */
function forget(times: number[], nowMs: number): void {
  let old = 0;
  while (old < times.length && nowMs - times[old] > RATE_WINDOW_MS) old++;
  times.splice(0, old);
}
