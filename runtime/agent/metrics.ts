// What an agent counts, twice readable: as Prometheus metrics (prom-client, one registry per
// agent so many agents can share a process) and as a plain snapshot for the simulator and tests.

import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Tier } from '@fleetmind/wire';
import type { MemoryReset } from './recurrent-memory.js';

export type DropReason =
  | 'oversized' | 'malformed' | 'invalid' | 'wrong_fleet' | 'misaddressed'
  | 'stale' | 'duplicate' | 'too_early' | 'bad_round' | 'unknown_sender' | 'unexpected_topic';

export type SafeReason =
  | 'observation_size' | 'observation_nonfinite' | 'observation_stale' | 'observation_from_future' | 'observation_out_of_range'
  | 'observation_missing' | 'inference_error' | 'action_nonfinite' | 'overrun';

/**
 * Why an observation got no tick of its own: it did not decode; its tick was not after the last
 * one of its episode; it belonged to an older episode; a newer one replaced it while a tick ran
 * (observationQueue 'latest'); the queue was full (observationQueue 'fifo'); free-running, its values
 * could not be acted on (wrong size, not finite, outside the bounds), so the last usable one stayed.
 */
export type ObservationRefusal = 'undecodable' | 'old_tick' | 'old_episode' | 'replaced' | 'queue_full' | 'unusable';

export interface AgentSnapshot {
  ticks: number;
  tiers: Record<Tier, number>;
  safeReasons: Partial<Record<SafeReason, number>>;
  deadlineMisses: number;
  shielded: number;
  /** silent: ticks a gated policy chose not to speak (it published one empty round-1 message instead of its messages) */
  messages: { sent: number; received: number; unsent: number; silent: number; dropped: Partial<Record<DropReason, number>> };
  /** observations that got no tick of their own, in all */
  observationsDropped: number;
  /** the same, by reason */
  observationsRefused: Partial<Record<ObservationRefusal, number>>;
  reconnects: number;
  /** a recurrent policy: how often its state was zeroed before a decision, by reason (recurrent-memory.ts) */
  memoryResets: Partial<Record<MemoryReset, number>>;
  /** peer checks (peer-consistency.ts): messages checked, found inconsistent (left out), peers quarantined and released; unavailable: the bundle's messages are not its states */
  peerChecks: { checked: number; inconsistent: number; quarantined: number; released: number; unavailable: number };
}

const TICK_BUCKETS = [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25];
const INFERENCE_BUCKETS = [0.000005, 0.00001, 0.000015, 0.00002, 0.00003, 0.00005, 0.0001, 0.00025, 0.001, 0.01];

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly snap: AgentSnapshot = {
    ticks: 0, tiers: { full: 0, partial: 0, none: 0, safe: 0 }, safeReasons: {}, deadlineMisses: 0, shielded: 0,
    messages: { sent: 0, received: 0, unsent: 0, silent: 0, dropped: {} }, observationsDropped: 0, observationsRefused: {}, reconnects: 0, memoryResets: {},
    peerChecks: { checked: 0, inconsistent: 0, quarantined: 0, released: 0, unavailable: 0 },
  };
  readonly quarantinedPeers: Gauge;
  readonly inferenceSeconds: Histogram;
  readonly tickSeconds: Histogram;
  readonly livePeers: Gauge;
  readonly connected: Gauge;

  constructor(labels: { fleet: string; agent: string }) {
    this.registry.setDefaultLabels(labels);
    const r = [this.registry];
    const snap = this.snap;
    // the counters read the snapshot when scraped: counting stays a plain increment where it
    // happens (every message, every tick), as a prom-client inc() hashes its labels each time
    const counter = (name: string, help: string, read: () => number) => new Counter({
      name, help, registers: r, collect() { this.reset(); this.inc(read()); },
    });
    const counterBy = <L extends string>(name: string, help: string, label: L, read: () => Partial<Record<string, number>>) => new Counter<L>({
      name, help, labelNames: [label], registers: r,
      collect() {
        this.reset();
        for (const [value, count] of Object.entries(read())) if (count) this.inc({ [label]: value } as Partial<Record<L, string>>, count);
      },
    });
    counterBy('fleetmind_agent_ticks_total', 'decisions made, by fallback tier', 'tier', () => snap.tiers);
    counterBy('fleetmind_agent_safe_actions_total', 'ticks answered with the safe action, by reason', 'reason', () => snap.safeReasons);
    counter('fleetmind_agent_deadline_misses_total', 'communication rounds that ended at the deadline with live peers unheard', () => snap.deadlineMisses);
    counter('fleetmind_agent_shielded_total', 'actions the safety shield overrode', () => snap.shielded);
    counter('fleetmind_agent_messages_sent_total', 'peer messages published', () => snap.messages.sent);
    counter('fleetmind_agent_messages_unsent_total', 'peer messages not sent because the broker was unreachable (never queued)', () => snap.messages.unsent);
    counter('fleetmind_agent_silent_ticks_total', 'ticks a gated policy chose not to send its messages (learned when to talk)', () => snap.messages.silent);
    counter('fleetmind_agent_messages_received_total', 'peer messages accepted', () => snap.messages.received);
    counterBy('fleetmind_agent_messages_dropped_total', 'incoming messages refused, by reason', 'reason', () => snap.messages.dropped);
    counterBy('fleetmind_agent_observations_refused_total', 'observations no tick acted on, by reason (undecodable, old_tick, old_episode, replaced, queue_full, unusable)', 'reason', () => snap.observationsRefused);
    counterBy('fleetmind_agent_memory_resets_total', 'a recurrent policy\'s state zeroed before a decision, by reason (start, episode, gap, age, bundle)', 'reason', () => snap.memoryResets);
    counter('fleetmind_agent_reconnects_total', 'reconnections to the broker', () => snap.reconnects);
    counterBy('fleetmind_agent_peer_messages_checked_total', 'peer messages checked against the policy\'s arithmetic (peerChecks), by verdict (consistent, inconsistent: left out of its round)', 'verdict',
      () => ({ consistent: snap.peerChecks.checked - snap.peerChecks.inconsistent, inconsistent: snap.peerChecks.inconsistent }));
    counter('fleetmind_agent_peer_quarantines_total', 'peers put in quarantine for inconsistent messages', () => snap.peerChecks.quarantined);
    this.quarantinedPeers = new Gauge({ name: 'fleetmind_agent_peers_quarantined', help: 'peers in quarantine now (their messages are left out)', registers: r });
    this.inferenceSeconds = new Histogram({ name: 'fleetmind_agent_inference_seconds', help: 'one ONNX Runtime call', buckets: INFERENCE_BUCKETS, registers: r });
    this.tickSeconds = new Histogram({ name: 'fleetmind_agent_tick_seconds', help: 'observation to action', buckets: TICK_BUCKETS, registers: r });
    this.livePeers = new Gauge({ name: 'fleetmind_agent_live_peers', help: 'peers alive by heartbeat', registers: r });
    this.connected = new Gauge({ name: 'fleetmind_agent_broker_connected', help: '1 while connected to the broker', registers: r });
  }

  /** The flight recorder's totals, read at each scrape. */
  watchRecorder(stats: () => { messages: number; failed: number; files: number; deleted: number }): void {
    const r = [this.registry];
    const gauge = (name: string, help: string, read: (s: ReturnType<typeof stats>) => number) =>
      new Gauge({ name, help, registers: r, collect() { this.set(read(stats())); } });
    gauge('fleetmind_agent_recording_records', 'records the flight recorder has written', (s) => s.messages);
    gauge('fleetmind_agent_recording_failures', 'records the flight recorder could not write (a full disk, …)', (s) => s.failed);
    gauge('fleetmind_agent_recording_files', 'recording files started', (s) => s.files);
    gauge('fleetmind_agent_recording_files_deleted', 'oldest recording files deleted to keep within the disk budget', (s) => s.deleted);
  }

  tick(tier: Tier, seconds: number): void {
    this.snap.ticks++;
    this.snap.tiers[tier]++;
    this.tickSeconds.observe(seconds);
  }

  safeAction(reason: SafeReason): void {
    this.snap.safeReasons[reason] = (this.snap.safeReasons[reason] ?? 0) + 1;
  }

  memoryReset(reason: MemoryReset): void {
    this.snap.memoryResets[reason] = (this.snap.memoryResets[reason] ?? 0) + 1;
  }

  deadlineMiss(): void { this.snap.deadlineMisses++; }
  shielded(): void { this.snap.shielded++; }
  messageSent(): void { this.snap.messages.sent++; }
  messageUnsent(): void { this.snap.messages.unsent++; }
  silentTick(): void { this.snap.messages.silent++; }
  messageReceived(): void { this.snap.messages.received++; }
  observationRefused(reason: ObservationRefusal): void {
    this.snap.observationsDropped++;
    this.snap.observationsRefused[reason] = (this.snap.observationsRefused[reason] ?? 0) + 1;
  }
  peerChecked(consistent: boolean): void {
    this.snap.peerChecks.checked++;
    if (!consistent) this.snap.peerChecks.inconsistent++;
  }
  peerQuarantined(): void { this.snap.peerChecks.quarantined++; this.quarantinedPeers.inc(); }
  peerReleased(): void { this.snap.peerChecks.released++; this.quarantinedPeers.dec(); }
  peerChecksUnavailable(): void { this.snap.peerChecks.unavailable++; }
  reconnected(): void { this.snap.reconnects++; }

  messageDropped(reason: DropReason): void {
    this.snap.messages.dropped[reason] = (this.snap.messages.dropped[reason] ?? 0) + 1;
  }

  snapshot(): AgentSnapshot {
    return structuredClone(this.snap);
  }
}

/** Serves /metrics of one agent's registry on host:port (0 = a free port); resolves with the port. */
export async function serveMetrics(registry: Registry, port: number, host = '127.0.0.1'): Promise<{ server: Server; port: number }> {
  const merged = registry;
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') { res.writeHead(404).end(); return; }
    merged.metrics().then(
      (text) => res.writeHead(200, { 'content-type': merged.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, resolve); });
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : port };
}
