// The edge agent: one robot's policy, run each tick —
//   observation → stage 0 → publish message → wait for live peers (or the round deadline) →
//   stage k … → final → safety shield → actuator
// with the fallback tiers of ARCHITECTURE.md ("Fallback tiers") recorded per tick: full (every teammate heard) → partial
// → none (nobody heard, or no broker: the no-communication graph) → safe (the manifest's safe
// action, for a missing/stale/NaN/wrong-size observation, an inference error, a NaN/Inf action
// vector, or an overrun). A continuous role's vector is then kept inside the bundle's box, and its
// rate of change limited when asked (action-box.ts).
// Nothing a peer or the network sends can stop it: every refusal is counted and logged.

import { loadBundle, RoleRunner, type LoadedBundle, type PolicySession, type RolePolicy } from '@fleetmind/models';
import { pino, type Logger } from 'pino';
import type { ActionOut, Adapter, AdapterLink, ObservationIn } from '../adapters/adapter.js';
import { agentTopic, decodeHeartbeat, decodeLostNotice, decodePeerMessage, encodeAgentStatus, encodeHeartbeat, encodePeerMessage, isAbstention, msToNextTick, tickDistance, wallClockTick, WireError, type Quantization, type Tier } from '@fleetmind/wire';
import { FlightRecorder, type RecordingMetadata } from '../recorder/flight-recorder.js';
import { manifestSha256 } from '../recorder/replay.js';
import { StatusWindow } from './status-window.js';
import { AgentConfigError, parseAgentSettings, type AgentSettings, type AgentSettingsInput } from './agent-options.js';
import { PeerLiveness } from './liveness.js';
import { AgentMetrics, type AgentSnapshot, type DropReason, type ObservationRefusal, type SafeReason } from './metrics.js';
import { RoundInbox } from './round-inbox.js';
import type { Shield } from './shield.js';
import { ActionBox, allFinite } from './action-box.js';
import { CommunicationRounds, type Decision } from './communication-rounds.js';
import { PeerConsistency } from './peer-consistency.js';
import { mqttTransport } from './mqtt-transport.js';
import { RecurrentMemory, type MemoryReset } from './recurrent-memory.js';
import { installPolicy, switchProblem, type InstalledPolicy } from './installed-policy.js';
import { shadowDecision, ShadowTally, type ShadowStats } from './shadow.js';
import { BundleStore, RolloutRefused } from '../rollout/bundle-store.js';
import { BundleUpdater, type PolicySlot } from '../rollout/bundle-updater.js';
import { bundleId, bundleLayout } from '../rollout/bundle-offer.js';
import type { Transport, TransportFactory } from './transport.js';

export interface AgentOptions extends AgentSettingsInput {
  /** a bundle folder (verified and loaded here) or a bundle already loaded */
  bundle: string | LoadedBundle;
  agentId: string;
  /** mqtt://host:port or mqtts://…; null runs without peers (the fallback graph acts) */
  broker: string | null;
  username?: string;
  password?: string;
  tlsCa?: string | Buffer;
  /** mutual TLS: this device's certificate and private key (PEM), instead of a password */
  tlsCert?: string | Buffer;
  tlsKey?: string | Buffer;
  /** PEM of the only key whose bundle signature is accepted */
  trustedKeyPem?: string;
  adapter: Adapter;
  shield?: Shield;
  logger?: Logger;
  /** called after every tick with what was decided (the simulator records it) */
  onTick?: (record: TickRecord) => void;
  /** the link to the peers; default: one MQTT connection (mqttTransport) */
  transport?: TransportFactory;
  /** runs the role's graphs; default: ONNX Runtime (onnxPolicy) */
  policy?: PolicyFactory;
  /**
   * over-the-air rollouts: keep bundles in this folder and follow the fleet's rollout plan
   * (runtime/rollout). The agent then starts on the bundle a rollout last switched it to.
   */
  bundleStore?: string;
}

/** Makes the session that runs a role's graphs for this agent. */
export type PolicyFactory = (role: RolePolicy, messageSize: number) => PolicySession;

/** The default policy of createAgent: the bundle's graphs on ONNX Runtime. */
export const onnxPolicy: PolicyFactory = (role, messageSize) => new RoleRunner(role, messageSize);

export interface TickRecord extends ActionOut {
  /** observation to action, ms */
  ms: number;
  /** per communication round, the peers heard */
  heard: string[][];
  /** the rounds that closed at their deadline with a live peer unheard */
  lateRounds: number;
  safeReason: SafeReason | null;
}

export interface FleetAgent {
  readonly agentId: string;
  readonly fleet: string;
  readonly metrics: AgentMetrics;
  readonly settings: AgentSettings;
  snapshot(): AgentSnapshot;
  connected(): boolean;
  /** peers alive by heartbeat now */
  livePeers(): string[];
  /** graceful stop: announces OFFLINE, closes the connection and the adapter */
  stop(): Promise<void>;
  /** abrupt stop, as a crash: no announcement (the broker publishes the last will) */
  kill(): Promise<void>;
}

const nowUs = () => Date.now() * 1000;

/** lockstep, observationQueue 'fifo': at most this many observations wait for their tick */
export const OBSERVATION_QUEUE_LIMIT = 64;

export async function createAgent(options: AgentOptions): Promise<FleetAgent> {
  const settings = parseAgentSettings(options);
  const store = options.bundleStore ? new BundleStore(options.bundleStore) : null;
  // where a rollout switched this agent before it stopped, it comes back on that bundle
  const fromStore = store?.current && store.has(store.current) ? store.dir(store.current) : null;
  const source = fromStore ?? options.bundle;
  const ownsBundle = typeof source === 'string';
  const bundle = typeof source === 'string' ? await loadBundle(source, { trustedKeyPem: options.trustedKeyPem }) : source;
  try {
    if (store && !fromStore) {
      const id = bundleId(bundle.dir);
      store.adoptFolder(id, bundle.dir);
      store.setRunning(id, store.lastRollout);
    }
    const agent = new Agent(options, settings, bundle, ownsBundle, store);
    await agent.start();
    return agent;
  } catch (err) {
    if (ownsBundle) await bundle.close();
    throw err;
  }
}

class Agent implements FleetAgent, PolicySlot {
  readonly agentId: string;
  readonly fleet: string;
  readonly metrics: AgentMetrics;
  private readonly log: Logger;
  /** the policy running now; a rollout replaces it between ticks (installed-policy.ts) */
  private p: InstalledPolicy;
  /** a rollout's next policy, loaded and checked, waiting for its tick */
  private staged: { policy: InstalledPolicy; id: string; atTick: number | null; onSwitch: (tick: number) => void } | null = null;
  /** a rollout's candidate in shadow mode: it decides beside the live policy and is never acted on (shadow.ts) */
  private shadowing: { policy: InstalledPolicy; id: string; tally: ShadowTally; memory: RecurrentMemory | null } | null = null;
  private readonly peers: string[];
  private readonly liveness: PeerLiveness;
  /** per peer: the send time of its newest heartbeat, so that an older one overtaken on another path changes nothing */
  private readonly newestHeartbeatUs = new Map<string, number>();
  /** per peer: the message layout its heartbeats advertise (wire 1.4), which a switch must match */
  private readonly peerLayouts = new Map<string, string>();
  private readonly inbox: RoundInbox;
  private readonly transport: Transport | null;
  private readonly rounds: CommunicationRounds;
  private readonly handlers = new Map<string, (payload: Uint8Array) => void>();
  private readonly quantization: Quantization;
  private readonly messageSize: number;
  private readonly tickBudgetMs: number;
  private lastTick = -1;
  private busy = false;
  /** lockstep: observations waiting while a tick runs (one with 'latest', up to the limit with 'fifo') */
  private pending: ObservationIn[] = [];
  /** the episode of the ticks (wire 1.2; 0: episodes not used) */
  private episode = 0;
  private latest: { observation: ObservationIn; receivedAt: number } | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private clockTimer: NodeJS.Timeout | null = null;
  /** free-running: the wall-clock tick the clock last started */
  private lastClockTick: number | null = null;
  private stopped = false;
  /** a graceful stop: no new ticks, the one in progress finishes */
  private stopping = false;
  private running: Promise<void> | null = null;
  private readonly loggedDrops = new Map<string, number>();
  private recorder: FlightRecorder | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private readonly statusWindow = new StatusWindow();
  private lastHeard: string[] = [];
  /** not in the episode now (the adapter said so); peers are told by heartbeat */
  private onStandby = false;
  /** continuous roles: the box (the same across a rollout: its rate limit carries over the switch) */
  private readonly box: ActionBox | null;
  private updater: BundleUpdater | null = null;
  /** the running bundle's id (the sha256 of its manifest.json) */
  private runningId: string;
  /** a recurrent policy's state between ticks (null: the policy keeps none) */
  private memory: RecurrentMemory | null;

  constructor(private readonly options: AgentOptions, readonly settings: AgentSettings, bundle: LoadedBundle, ownsBundle: boolean, private readonly store: BundleStore | null) {
    this.agentId = options.agentId;
    this.fleet = settings.fleet;
    this.p = installPolicy(bundle, ownsBundle, options.agentId, options.policy ?? onnxPolicy);
    this.runningId = bundleId(bundle.dir);
    this.memory = this.p.runner.stateSize > 0 ? new RecurrentMemory(this.p.runner.stateSize, settings.memoryMaxAgeMs) : null;
    const role = this.p.role;
    this.box = role.action.kind === 'continuous' ? new ActionBox(role.action, settings.actionRateLimit) : null;
    const comm = bundle.manifest.communication;
    this.messageSize = comm?.message_size ?? 0;
    this.quantization = comm?.quantization ?? 'f32';
    const capacity = comm?.inbox_capacity ?? 0;
    this.peers = settings.peers ?? role.agents.filter((a) => a !== options.agentId);
    if (this.peers.includes(options.agentId)) throw new AgentConfigError(`agent ${options.agentId} cannot be its own peer`);
    if (this.p.runner.rounds > 0 && this.peers.length > capacity) {
      throw new AgentConfigError(`${this.peers.length} peers do not fit the bundle's inbox of ${capacity}`);
    }
    this.tickBudgetMs = settings.tickBudgetMs ?? (settings.hz ? 1000 / settings.hz : 250);
    this.metrics = new AgentMetrics({ fleet: this.fleet, agent: this.agentId });
    this.log = (options.logger ?? pino({ level: 'info' }, pino.destination(2))).child({ fleet: this.fleet, agent: this.agentId });
    this.liveness = new PeerLiveness(this.peers, settings.peerTimeoutMs);
    this.inbox = new RoundInbox(new Set(this.peers), this.p.runner.rounds, settings.record !== null);
    this.transport = options.broker === null ? null : (options.transport ?? mqttTransport)({
      url: options.broker,
      // a broker with users takes a client id that is the user's name or begins "<name>:": a user
      // that is not this agent (a fleet user, hosting many) goes first
      clientId: options.username && options.username !== this.agentId ? `${options.username}:${this.agentId}:${this.fleet}:${process.pid}` : `${this.agentId}:${this.fleet}:${process.pid}`,
      username: options.username,
      password: options.password,
      tlsCa: options.tlsCa,
      tlsCert: options.tlsCert,
      tlsKey: options.tlsKey,
      will: { topic: agentTopic(this.fleet, this.agentId, 'hb'), payload: encodeHeartbeat({ agent: this.agentId, online: false, tick: 0, sentUs: 0 }) },
      reconnectBaseMs: settings.reconnectBaseMs,
      reconnectMaxMs: settings.reconnectMaxMs,
      keepaliveS: 10,
    }, {
      onMessage: (topic, payload) => this.route(topic, payload),
      onConnect: () => {
        this.metrics.connected.set(1);
        this.log.info({ broker: options.broker }, 'connected');
        this.heartbeat();
      },
      onDisconnect: (reason) => {
        this.metrics.connected.set(0);
        this.log.warn({ reason }, 'disconnected from the broker; acting without peers until it is back');
      },
      onRetryScheduled: (attempt, delayMs) => this.log.debug({ attempt, inMs: Math.round(delayMs) }, 'broker unreachable; retrying'),
    });
    this.rounds = new CommunicationRounds({
      fleet: this.fleet, agentId: this.agentId, peers: this.peers, policy: this.p.runner, agentIdInput: this.p.agentIdInput,
      messageSize: this.messageSize, quantization: this.quantization, capacity, inbox: this.inbox, liveness: this.liveness,
      roundDeadlineMs: settings.roundDeadlineMs, logicalRoundLimitMs: settings.lostNotices ? this.tickBudgetMs : null,
      metrics: this.metrics, transport: this.transport, trace: settings.record !== null,
      consistency: settings.peerChecks === 'quarantine' && this.p.runner.rounds >= 2 ? new PeerConsistency({
        self: this.agentId, peers: this.peers, messageSize: this.messageSize, capacity, quantization: this.quantization,
        absent: (peer) => this.liveness.isOnStandby(peer) || !this.liveness.isLive(peer),
        events: {
          checked: (_peer, consistent) => this.metrics.peerChecked(consistent),
          quarantined: (peer) => { this.metrics.peerQuarantined(); this.log.warn({ peer }, 'peer quarantined: its messages do not follow the policy\'s arithmetic; they are left out until it passes again'); },
          released: (peer) => { this.metrics.peerReleased(); this.log.info({ peer }, 'peer released from quarantine'); },
        },
      }) : null,
    });
    if (settings.peerChecks === 'quarantine' && this.p.runner.rounds < 2) {
      this.log.warn({ rounds: this.p.runner.rounds }, 'peerChecks: the policy has fewer than two communication rounds, so there is nothing to check a message against; off');
    }
  }

  async start(): Promise<void> {
    if (this.settings.record) {
      this.recorder = await FlightRecorder.open({ ...this.settings.record, prefix: this.agentId }, this.recordingMetadata(), (err) => this.log.error({ err: err.message }, 'flight recorder: a record could not be written; recording goes on where it can'));
      const recorder = this.recorder;
      this.metrics.watchRecorder(() => recorder.stats);
      this.log.info({ file: recorder.path }, 'recording');
    }
    if (this.transport) {
      for (const peer of this.peers) {
        this.handlers.set(agentTopic(this.fleet, peer, 'msg'), (payload) => this.onPeerMessage(peer, payload));
        this.handlers.set(agentTopic(this.fleet, peer, 'hb'), (payload) => this.onHeartbeat(peer, payload));
      }
      // not subscribed: a simulator writes them on this agent's own link, and no broker carries them
      if (this.settings.lostNotices) for (const peer of this.peers) this.handlers.set(agentTopic(this.fleet, peer, 'lost'), (payload) => this.onLostNotice(peer, payload));
      this.transport.subscribe([...this.handlers.keys()]);
    }
    const link: AdapterLink | null = this.transport && {
      subscribe: (topic, handler) => { this.handlers.set(topic, handler); this.transport!.subscribe([topic]); },
      publish: (topic, payload) => this.transport!.publishNow(topic, payload),
    };
    await this.options.adapter.start({
      fleet: this.fleet,
      agent: this.agentId,
      link,
      observe: (o) => this.onObservation(o),
      standby: () => this.enterStandby(),
      reject: (detail) => this.refuseObservation('undecodable', detail),
    });
    if (this.transport) {
      const reached = await this.transport.start();
      if (!reached) this.log.warn({ broker: this.options.broker }, 'broker unreachable; retrying with backoff, acting without peers meanwhile');
      this.heartbeatTimer = setInterval(() => this.heartbeat(), this.settings.heartbeatMs);
      if (this.settings.statusMs > 0) this.statusTimer = setInterval(() => this.publishStatus(), this.settings.statusMs);
    }
    if (this.store && this.options.broker) {
      this.updater = new BundleUpdater({
        brokerUrl: this.options.broker, fleet: this.fleet, agentId: this.agentId,
        username: this.options.username, password: this.options.password, tlsCa: this.options.tlsCa, tlsCert: this.options.tlsCert, tlsKey: this.options.tlsKey,
        store: this.store, trustedKeyPem: this.options.trustedKeyPem, slot: this, logger: this.log,
      });
      this.updater.start();
    }
    if (this.recorder) this.statusTimer ??= setInterval(() => this.recordCounters(), this.settings.statusMs || 1000);
    if (this.settings.hz) this.scheduleClock(1000 / this.settings.hz);
    this.log.info({ bundle: this.p.bundle.manifest.name, role: this.p.role.name, peers: this.peers.length, rounds: this.p.runner.rounds, clock: this.settings.hz ? `${this.settings.hz} Hz` : 'lockstep' }, 'agent started');
  }

  /** what a recording file says of the agent and the bundle that made its ticks */
  private recordingMetadata(): RecordingMetadata {
    const comm = this.p.bundle.manifest.communication;
    return {
      agent: this.agentId, fleet: this.fleet, role: this.p.role.name, peers: JSON.stringify(this.peers),
      bundle: this.p.bundle.manifest.name, bundle_version: this.p.bundle.manifest.version, bundle_dir: this.p.bundle.dir,
      manifest_sha256: manifestSha256(this.p.bundle.dir),
      rounds: String(this.p.runner.rounds), message_size: String(this.messageSize), quantization: this.quantization,
      inbox_capacity: String(comm?.inbox_capacity ?? 0), clock: this.settings.hz ? `${this.settings.hz} Hz` : 'lockstep',
    };
  }

  snapshot(): AgentSnapshot {
    const s = this.metrics.snapshot();
    s.reconnects = this.transport?.reconnects ?? 0;
    return s;
  }

  connected(): boolean {
    return this.transport?.connected ?? false;
  }

  livePeers(): string[] {
    return this.liveness.live();
  }

  // ---- incoming ----------------------------------------------------------------------------

  private route(topic: string, payload: Uint8Array): void {
    const handler = this.handlers.get(topic);
    if (handler) handler(payload);
    else this.drop('unexpected_topic', topic);
  }

  private onPeerMessage(topicAgent: string, payload: Uint8Array): void {
    let m;
    try {
      m = decodePeerMessage(payload, this.messageSize, this.quantization);
    } catch (err) {
      if (err instanceof WireError) return this.drop(err.reason, `from ${topicAgent}: ${err.message}`);
      throw err;
    }
    if (m.fleet !== this.fleet) return this.drop('wrong_fleet', `from ${topicAgent}: fleet ${m.fleet}`);
    if (m.agent !== topicAgent) return this.drop('misaddressed', `${m.agent} on ${topicAgent}'s topic`);
    // a message sent before the peer said it is on standby (a late one of its last tick) does not
    // bring it back; nor does one stamped in the same millisecond (Date.now()'s resolution): a tie is no order
    const stale = this.liveness.isOnStandby(m.agent) && m.sentUs <= (this.newestHeartbeatUs.get(m.agent) ?? -Infinity);
    if (!stale) this.liveness.heard(m.agent);
    // an abstention (wire 1.3): nothing to hear from it this round, and nothing to wait for
    // a chosen silence (wire 1.6): nothing to hear from it in any round of the tick, and nothing missing
    const refusal = isAbstention(m) ? (m.silent ? this.inbox.markSilent(m) : this.inbox.markLost(m)) : this.inbox.put(m);
    if (refusal === 'sat_out') return; // of a tick it was not in: nothing wrong, nothing to keep
    if (refusal) this.drop(refusal, `from ${m.agent}: tick ${m.tick} round ${m.round}`);
    else this.metrics.messageReceived();
  }

  private onLostNotice(topicAgent: string, payload: Uint8Array): void {
    let notice;
    try {
      notice = decodeLostNotice(payload);
    } catch (err) {
      if (err instanceof WireError) return this.drop(err.reason, `lost notice on ${topicAgent}'s topic: ${err.message}`);
      throw err;
    }
    if (notice.agent !== topicAgent) return this.drop('misaddressed', `lost notice for ${notice.agent} on ${topicAgent}'s topic`);
    const refusal = this.inbox.markLost(notice);
    if (refusal === 'sat_out') return;
    if (refusal) this.drop(refusal, `lost notice for ${notice.agent}: tick ${notice.tick} round ${notice.round}`);
  }

  private onHeartbeat(topicAgent: string, payload: Uint8Array): void {
    let hb;
    try {
      hb = decodeHeartbeat(payload);
    } catch (err) {
      if (err instanceof WireError) return this.drop(err.reason, `heartbeat on ${topicAgent}'s topic: ${err.message}`);
      throw err;
    }
    // the last will carries the agent id too, so a heartbeat naming someone else is refused
    if (hb.agent !== topicAgent) return this.drop('misaddressed', `heartbeat of ${hb.agent} on ${topicAgent}'s topic`);
    // an ONLINE or STANDBY heartbeat sent before the newest one heard says what no longer holds (an
    // ONLINE overtaken by a STANDBY on another path); an OFFLINE (the last will, sent_us 0) always counts
    if (hb.online) {
      const newest = this.newestHeartbeatUs.get(hb.agent) ?? -Infinity;
      if (hb.sentUs < newest) return;
      // a tie is no order: Date.now() ticks in milliseconds, so an ONLINE sent just before a
      // STANDBY can carry the same time and arrive after it (through the broker, where a simulator's
      // notice came on the agent's own link). It does not bring the peer back: its next message does
      if (hb.sentUs === newest && !hb.standby && this.liveness.isOnStandby(hb.agent)) return;
      // never later than now: a heartbeat stamped in the future must not make every later one look old
      this.newestHeartbeatUs.set(hb.agent, Math.min(hb.sentUs, nowUs()));
    }
    if (hb.online && hb.layout !== undefined) this.notePeerLayout(hb.agent, hb.layout);
    if (hb.online && !hb.standby) this.liveness.heard(hb.agent);
    else {
      // offline, or not in the episode: not waited for (a standby peer's next message or ONLINE heartbeat brings it back)
      if (hb.standby) this.liveness.wentOnStandby(hb.agent);
      else this.liveness.wentOffline(hb.agent);
      this.log.info({ peer: hb.agent }, hb.standby ? 'peer is on standby (not in the episode)' : 'peer went offline');
      this.inbox.recheck();
    }
    this.metrics.livePeers.set(this.liveness.live().length);
  }

  /** A peer's advertised layout; one this agent cannot read is said once, when it first appears. */
  private notePeerLayout(peer: string, layout: string): void {
    const before = this.peerLayouts.get(peer);
    this.peerLayouts.set(peer, layout);
    const own = bundleLayout(this.p.bundle.manifest);
    if (layout !== before && layout !== own) this.log.warn({ peer, layout, own }, 'peer runs a message layout this agent cannot read');
  }

  /** Why a bundle with this layout cannot run beside the live peers' advertised ones, or null. */
  private peerLayoutProblem(layout: string): string | null {
    const live = new Set(this.liveness.live());
    const odd = [...this.peerLayouts].filter(([peer, theirs]) => live.has(peer) && theirs !== layout);
    if (odd.length === 0) return null;
    return `its message layout (${layout}) differs from what ${odd.map(([peer, theirs]) => `${peer} runs (${theirs})`).join(', ')}`;
  }

  private refuseObservation(reason: ObservationRefusal, detail: string): void {
    this.metrics.observationRefused(reason);
    this.logDrop(`observation ${reason}`, detail);
  }

  private drop(reason: DropReason, detail: string): void {
    this.metrics.messageDropped(reason);
    this.logDrop(reason, detail);
  }

  /** logs the 1st, 10th, 100th … refusal of each kind: visible, never a flood */
  private logDrop(kind: string, detail: string): void {
    const n = (this.loggedDrops.get(kind) ?? 0) + 1;
    this.loggedDrops.set(kind, n);
    if (Number.isInteger(Math.log10(n))) this.log.warn({ kind, count: n, detail }, 'refused input');
  }

  /** what a dashboard shows of this agent (fm/<fleet>/a/<agent>/status) */
  private publishStatus(): void {
    const s = this.snapshot();
    const window = this.statusWindow.take();
    this.transport?.publishNow(agentTopic(this.fleet, this.agentId, 'status'), encodeAgentStatus({
      agent: this.agentId, bundle: this.p.bundle.manifest.name, bundleVersion: this.p.bundle.manifest.version, role: this.p.role.name,
      tick: Math.max(0, this.lastTick), tiers: s.tiers, deadlineMisses: s.deadlineMisses,
      messagesSent: s.messages.sent, messagesReceived: s.messages.received,
      messagesDropped: Object.values(s.messages.dropped).reduce((sum, n) => sum + (n ?? 0), 0),
      tickP50Ms: window.tickP50Ms, tickP99Ms: window.tickP99Ms, inferenceP50Ms: window.inferenceP50Ms,
      heard: this.lastHeard, livePeers: this.liveness.live().length, sentUs: nowUs(),
    }));
    this.recordCounters();
  }

  /** the counters into the recording, about once a second */
  private recordCounters(): void {
    if (!this.recorder) return;
    const s = this.snapshot();
    const counters: Record<string, number> = {
      ticks: s.ticks, deadline_misses: s.deadlineMisses, shielded: s.shielded, observations_dropped: s.observationsDropped, reconnects: s.reconnects,
      messages_sent: s.messages.sent, messages_received: s.messages.received, messages_unsent: s.messages.unsent, silent_ticks: s.messages.silent,
    };
    for (const [tier, n] of Object.entries(s.tiers)) counters[`tier_${tier}`] = n;
    for (const [reason, n] of Object.entries(s.safeReasons)) counters[`safe_${reason}`] = n ?? 0;
    for (const [reason, n] of Object.entries(s.messages.dropped)) counters[`dropped_${reason}`] = n ?? 0;
    for (const [reason, n] of Object.entries(s.observationsRefused)) counters[`observations_refused_${reason}`] = n ?? 0;
    for (const [reason, n] of Object.entries(s.memoryResets)) counters[`memory_resets_${reason}`] = n ?? 0;
    this.recorder.counters(counters, nowUs());
  }

  private heartbeat(): void {
    this.transport?.publishNow(agentTopic(this.fleet, this.agentId, 'hb'), encodeHeartbeat({
      agent: this.agentId, online: true, standby: this.onStandby, tick: Math.max(0, this.lastTick), sentUs: nowUs(),
      bundleId: this.runningId, layout: bundleLayout(this.p.bundle.manifest),
    }));
  }

  /** Not in the episode now: say so at once, so peers stop waiting; the next observation ends it. */
  private enterStandby(): void {
    if (this.onStandby) return;
    this.onStandby = true;
    this.inbox.release(); // its next tick is unknown: its peers' messages for it may come first
    this.heartbeat();
  }

  // ---- rollouts (runtime/rollout) ----------------------------------------------------------

  runningBundle(): { id: string; name: string; version: string; layout: string } {
    const m = this.p.bundle.manifest;
    return { id: this.runningId, name: m.name, version: m.version, layout: bundleLayout(m) };
  }

  /**
   * Loads a rollout's bundle beside the running one. It takes over at the first tick at or after
   * atTick, or, in shadow mode, decides beside it from the next tick on and is never acted on.
   */
  async stageBundle(dir: string, id: string, atTick: number | null, onSwitch: (tick: number) => void, mode: 'switch' | 'shadow' = 'switch'): Promise<void> {
    const bundle = await loadBundle(dir, { trustedKeyPem: this.options.trustedKeyPem });
    let next: InstalledPolicy;
    try {
      next = installPolicy(bundle, true, this.agentId, this.options.policy ?? onnxPolicy);
    } catch (err) {
      await bundle.close();
      throw new RolloutRefused('wrong_role', `bundle ${bundle.manifest.name} ${bundle.manifest.version}: ${(err as Error).message}`);
    }
    // the running bundle's layout, and what the live peers say they run (a team mis-deployed by hand)
    const problem = switchProblem(this.p, next) ?? this.peerLayoutProblem(bundleLayout(next.bundle.manifest));
    if (problem || this.stopped || this.stopping) {
      await bundle.close();
      if (problem) throw new RolloutRefused('incompatible', `bundle ${bundle.manifest.name} ${bundle.manifest.version}: ${problem}`);
      return;
    }
    await this.dropStaged();
    if (mode === 'shadow') {
      const memory = next.runner.stateSize > 0 ? new RecurrentMemory(next.runner.stateSize, this.settings.memoryMaxAgeMs) : null;
      this.shadowing = { policy: next, id, tally: new ShadowTally(), memory };
      this.rounds.keepInputs = true;
    } else this.staged = { policy: next, id, atTick, onSwitch };
  }

  /** the shadow candidate and how it agrees with the live policy so far (null: none) */
  shadowStats(): (ShadowStats & { id: string }) | null {
    return this.shadowing && { id: this.shadowing.id, ...this.shadowing.tally.stats() };
  }

  async dropStaged(): Promise<void> {
    const [staged, shadow] = [this.staged, this.shadowing];
    this.staged = null;
    this.shadowing = null;
    this.rounds.keepInputs = false;
    if (staged?.policy.owned) await staged.policy.bundle.close();
    // a shadow decision may be running: its sessions are released once the tick is over
    if (shadow?.policy.owned) setImmediate(() => void (this.running ?? Promise.resolve()).then(() => shadow.policy.bundle.close()));
  }

  /** Between two ticks: the staged policy takes over when its tick has come. */
  private switchIfDue(tick: number): void {
    const staged = this.staged;
    if (!staged || (staged.atTick !== null && tick < staged.atTick)) return;
    const old = this.p;
    this.p = staged.policy;
    this.runningId = staged.id;
    this.staged = null;
    this.rounds.usePolicy(this.p.runner, this.p.agentIdInput);
    this.memory = this.p.runner.stateSize > 0 ? new RecurrentMemory(this.p.runner.stateSize, this.settings.memoryMaxAgeMs) : null;
    this.memory?.policySwitched();
    // the ticks from here on are this bundle's: a new recording file says so
    this.recorder?.startNewFile(this.recordingMetadata());
    this.log.info({ bundle: this.p.bundle.manifest.name, version: this.p.bundle.manifest.version, tick }, 'switched bundles');
    // its sessions are released after this tick's decision, off its path
    if (old.owned) setImmediate(() => void old.bundle.close());
    // the rollout's bookkeeping (its store's state on disk, its report) waits for this tick's decision
    setImmediate(() => staged.onSwitch(tick));
  }

  private async closePolicies(): Promise<void> {
    await this.updater?.close();
    if (this.staged?.policy.owned) await this.staged.policy.bundle.close();
    if (this.shadowing?.policy.owned) await this.shadowing.policy.bundle.close();
    this.staged = null;
    this.shadowing = null;
    if (this.p.owned) await this.p.bundle.close();
  }

  // ---- ticks -------------------------------------------------------------------------------

  private onObservation(o: ObservationIn): void {
    if (this.stopped || this.stopping) return;
    if (this.onStandby) {
      this.onStandby = false; // back in the episode: peers wait for it again
      this.heartbeat();
    }
    if (this.settings.hz) {
      // the clock acts on the latest usable view: a corrupt or forged frame does not displace a
      // good one (which still grows stale on its own), nor cost the fleet a period in safe actions
      const problem = this.valuesProblem(o.values);
      if (problem) return this.refuseObservation('unusable', `observation for tick ${o.tick}: ${problem}; the last usable one stays`);
      this.latest = { observation: o, receivedAt: performance.now() };
      return;
    }
    const episode = o.episode ?? 0;
    if (episode !== this.episode) {
      if (tickDistance(episode, this.episode) < 0) return this.refuseObservation('old_episode', `observation of episode ${episode} arrived in episode ${this.episode}`);
      this.startEpisode(episode);
    }
    const last = this.pending.at(-1)?.tick ?? this.lastTick;
    if (o.tick <= last) return this.refuseObservation('old_tick', `observation for tick ${o.tick} arrived after tick ${last}${episode ? ` of episode ${episode}` : ''} (ticks must rise within an episode: raise Observation.episode to restart them)`);
    if (this.busy) {
      if (this.settings.observationQueue === 'latest') {
        // act on the freshest view: one that waited is superseded before it could be acted on
        for (const old of this.pending.splice(0)) this.refuseObservation('replaced', `observation for tick ${old.tick} replaced by tick ${o.tick} while a tick ran`);
      } else if (this.pending.length >= OBSERVATION_QUEUE_LIMIT) {
        return this.refuseObservation('queue_full', `observation for tick ${o.tick}: ${OBSERVATION_QUEUE_LIMIT} already wait`);
      }
      this.pending.push(o);
      return;
    }
    this.running = this.runTicks(o);
  }

  /** A new episode (wire 1.2): its ticks start afresh, and nothing of the last one waits. */
  private startEpisode(episode: number): void {
    for (const old of this.pending.splice(0)) this.refuseObservation('old_episode', `observation for tick ${old.tick} of episode ${this.episode} was waiting when episode ${episode} began`);
    this.episode = episode;
    this.lastTick = -1;
    this.inbox.newEpisode(episode);
  }

  /**
   * The clock fires on the wall clock's period boundaries, so that agents with synchronized clocks
   * decide in phase and their communication rounds meet. Each period is timed afresh from the
   * wall clock: an interval timer drifts later every period by its own lateness, differently in
   * each agent, until their periods straddle a boundary and they name different ticks.
   */
  private scheduleClock(periodMs: number): void {
    this.clockTimer = setTimeout(() => {
      if (this.stopped || this.stopping) return;
      this.onClock(periodMs);
      this.scheduleClock(periodMs);
    }, msToNextTick(Date.now(), periodMs));
  }

  private onClock(periodMs: number): void {
    if (this.stopped || this.stopping) return;
    // the tick number comes from the wall clock, so peers with synchronized clocks agree on it
    const tick = wallClockTick(Date.now(), periodMs);
    // a clock stepped back names a tick already played: wait for the next one
    if (this.lastClockTick !== null && tickDistance(tick, this.lastClockTick) <= 0) return;
    this.lastClockTick = tick;
    if (this.busy) {
      this.metrics.safeAction('overrun');
      this.abstain(tick, 0); // its peers need not wait for it this period
      return;
    }
    const latest = this.latest;
    // no observation yet: infinitely old
    const age = latest ? performance.now() - latest.receivedAt : Infinity;
    this.running = this.runTicks({ tick, values: latest?.observation.values ?? new Float32Array(0) }, age);
  }

  private async runTicks(first: ObservationIn, ageMs = 0): Promise<void> {
    this.busy = true;
    try {
      let next: ObservationIn | null = first;
      while (next && !this.stopped) {
        await this.tick(next, ageMs);
        next = this.pending.shift() ?? null;
        ageMs = 0;
      }
    } finally {
      this.busy = false;
    }
  }

  private observationProblem(o: ObservationIn, ageMs: number): SafeReason | null {
    if (ageMs === Infinity) return 'observation_missing';
    // free-running, the values were judged once when the observation arrived (onObservation)
    const values = this.settings.hz ? null : this.valuesProblem(o.values);
    if (values) return values;
    const max = this.settings.maxObservationAgeMs;
    const sentAgoUs = o.sentUs !== undefined && o.sentUs > 0 ? nowUs() - o.sentUs : 0;
    if (ageMs > max || sentAgoUs > max * 1000) return 'observation_stale';
    // a sender whose clock is ahead would otherwise pass for fresh however old its data
    if (-sentAgoUs > max * 1000) return 'observation_from_future';
    return null;
  }

  /** What makes these values unfit for the policy, whatever their age. */
  private valuesProblem(values: Float32Array): 'observation_size' | 'observation_nonfinite' | 'observation_out_of_range' | null {
    if (values.length !== this.p.runner.obsSize) return 'observation_size';
    for (let k = 0; k < values.length; k++) if (!Number.isFinite(values[k])) return 'observation_nonfinite';
    const { low, high } = this.p.role.observation;
    if (low && high) for (let k = 0; k < values.length; k++) if (values[k] < low[k] || values[k] > high[k]) return 'observation_out_of_range';
    return null;
  }

  /**
   * No message from this agent for any round of the tick (wire 1.3): it takes the safe action or
   * skips the period. Its peers stop waiting for it at once instead of at the round deadline, so
   * one bad sensor or one slow agent does not cost the whole team its deadline.
   */
  private abstain(tick: number, episode: number): void {
    if (this.p.runner.rounds === 0 || !this.transport?.connected) return;
    const topic = agentTopic(this.fleet, this.agentId, 'msg');
    for (let round = 1; round <= this.p.runner.rounds; round++) {
      this.transport.publishNow(topic, encodePeerMessage({ fleet: this.fleet, agent: this.agentId, tick, round, payload: new Uint8Array(0), scale: 0, sentUs: nowUs(), episode }));
    }
  }

  private async tick(o: ObservationIn, ageMs: number): Promise<void> {
    this.switchIfDue(o.tick);
    const started = performance.now();
    const startedUs = nowUs();
    this.lastTick = o.tick;
    let tier: Tier = 'safe';
    let action = this.p.safeIndex;
    let vector: Float32Array | null = this.p.safeVector?.slice() ?? null;
    let heard: string[][] = [];
    let decision: Decision | null = null;
    let safeReason = this.observationProblem(o, ageMs);
    let forgot: MemoryReset | null = null;
    if (safeReason) this.abstain(o.tick, o.episode ?? 0);
    else {
      try {
        forgot = this.memory?.prepare(o.tick, o.episode ?? 0, performance.now()) ?? null;
        if (forgot) this.metrics.memoryReset(forgot);
        decision = await this.rounds.decide(o, this.memory?.state);
        ({ action, vector, tier, heard } = decision);
        if (vector && !allFinite(vector)) safeReason = 'action_nonfinite';
      } catch (err) {
        safeReason = 'inference_error';
        this.logDrop('inference', (err as Error).message);
      }
    }
    if (!safeReason && performance.now() - started > this.tickBudgetMs) safeReason = 'overrun';
    if (safeReason) {
      tier = 'safe';
      action = this.p.safeIndex;
      vector = this.p.safeVector?.slice() ?? null;
      this.metrics.safeAction(safeReason);
    } else if (this.memory && decision?.nextState) {
      // (a decision replaced by the safe action is not remembered: the next one finds a gap)
      this.memory.keep(decision.nextState, o.tick, o.episode ?? 0, performance.now());
    }
    const policyVector = decision?.vector ?? null;
    let shielded = false;
    if (this.options.shield && !safeReason) {
      const override = this.options.shield({ observation: o.values, action, vector, role: this.p.role });
      if (typeof override === 'number' && override !== action) {
        action = override;
        shielded = true;
      } else if (override instanceof Float32Array && vector && override.some((x, k) => x !== vector![k])) {
        vector = override.slice();
        shielded = true;
      }
    }
    // a continuous action always leaves inside the box (and within the rate limit, when set)
    if (vector && this.box!.guard(vector, Boolean(safeReason))) shielded = true;
    if (shielded) this.metrics.shielded();
    if (this.stopped) return;
    const out: ActionOut = { tick: o.tick, action, vector, tier, shielded };
    this.options.adapter.apply(out);
    const ms = performance.now() - started;
    this.metrics.tick(tier, ms / 1000);
    this.statusWindow.add(ms, decision?.inferenceMs ?? 0);
    if (heard.length > 0) this.lastHeard = heard[heard.length - 1];
    this.recorder?.tick({
      tick: o.tick, startedUs, observation: o.values, path: decision?.path ?? 'not_asked', rounds: decision?.rounds ?? [],
      policyAction: decision?.action ?? action, action, policyVector, vector, tier, shielded, safeReason: safeReason ?? '', memoryReset: forgot ?? '', silent: decision?.silent === true,
      inferenceMs: decision?.inferenceMs ?? 0, waitingMs: decision?.waitingMs ?? 0, tickMs: ms,
    }, startedUs);
    this.options.onTick?.({ ...out, ms, heard, lateRounds: decision?.lateRounds ?? 0, safeReason });
    if (this.shadowing && decision && !safeReason) await this.shadowDecide(o, decision);
  }

  /** After the live action went out: what the shadow candidate would have done on the same inputs. */
  private async shadowDecide(o: ObservationIn, live: Decision): Promise<void> {
    const shadow = this.shadowing!;
    // a shadow staged while this tick's rounds ran has not seen all of their inputs: nothing to compare
    if (live.path === 'rounds' && live.inputs.length !== shadow.policy.runner.rounds) return;
    try {
      shadow.memory?.prepare(o.tick, o.episode ?? 0, performance.now());
      const mine = await shadowDecision(shadow.policy.runner, live, { values: o.values, agentIdInput: shadow.policy.agentIdInput, rounds: live.inputs, capacity: this.bundleCapacity(), memory: shadow.memory?.state });
      if (mine.nextState) shadow.memory?.keep(mine.nextState, o.tick, o.episode ?? 0, performance.now());
      shadow.tally.add(live, mine);
    } catch (err) {
      this.logDrop('shadow inference', (err as Error).message);
    }
  }

  private bundleCapacity(): number {
    return this.p.bundle.manifest.communication?.inbox_capacity ?? 0;
  }

  // ---- stopping ----------------------------------------------------------------------------

  private halt(): void {
    this.stopped = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.statusTimer) clearInterval(this.statusTimer);
    if (this.clockTimer) clearTimeout(this.clockTimer);
  }

  async stop(): Promise<void> {
    if (this.stopped || this.stopping) return;
    this.stopping = true;
    this.pending = [];
    await this.running; // the decision in progress is finished and delivered
    this.halt();
    if (this.transport) {
      await this.transport.publishConfirmed(agentTopic(this.fleet, this.agentId, 'hb'), encodeHeartbeat({ agent: this.agentId, online: false, tick: Math.max(0, this.lastTick), sentUs: nowUs() }));
      await this.transport.close();
    }
    await this.options.adapter.close();
    if (this.recorder) {
      this.recordCounters();
      await this.recorder.close();
    }
    await this.closePolicies();
    this.log.info('agent stopped');
  }

  async kill(): Promise<void> {
    if (this.stopped) return;
    this.halt();
    this.transport?.destroy();
    this.recorder?.abandon();
    await this.options.adapter.close();
    await this.closePolicies();
  }
}
