// Fleet-in-the-loop simulation: a world server plays episodes with a fleet of real runtime
// agents over a real broker, each agent behind its own link proxy, while a fault plan strikes.
//
// Each tick: the world's observation for every agent goes to it (through the sensor faults),
// the server waits for every running agent's action (lockstep, up to a timeout; or one period
// with --hz), a missing action is replaced by the role's safe action (a watchdog stops the motors
// of a robot whose controller fell silent) or, with missingAction 'hold', by the agent's previous
// action (an actuator that keeps its last command) — and the world steps. Returns are summed exactly as `fleetmind eval` sums them, so that with no
// faults the per-episode team returns equal `eval --bundle`'s, episode by episode.

import { connect as mqttConnect, type MqttClient } from 'mqtt';
import { loadBundle, type LoadedBundle } from '@fleetmind/models';
import { type ActionOut, type AgentSnapshot, type AgentSettingsInput, type TickRecord } from '@fleetmind/runtime';
import { decodeHeartbeat, type Tier } from '@fleetmind/wire';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, UsersFile, type FleetBroker } from '@fleetmind/broker';
import { makeWorld, type BatchedWorld } from '@fleetmind/worlds';
import { LinkProxy } from '../network/link-proxy.js';
import { FaultEngine, type FaultEvent } from '../faults/fault-engine.js';
import type { FaultKind, FaultPlan } from '../faults/fault-plan.js';
import { addSnapshots, createMember, type FleetMember, type FleetMode } from './fleet-member.js';

export interface SimOptions {
  bundle: string | LoadedBundle;
  episodes: number;
  seed: number;
  faults?: FaultPlan | null;
  /** 'embedded': the fleetmind broker on a free loopback port; otherwise a broker URL */
  broker?: 'embedded' | string;
  /** embedded broker with auth on: a user and a random password per agent (and one for the world), made for this run */
  auth?: boolean;
  mode?: FleetMode;
  fleet?: string;
  /** lockstep: how long the server waits for actions before holding the missing ones, ms */
  tickTimeoutMs?: number;
  /** real time: one tick per 1/hz s, actions collected until the period ends */
  hz?: number | null;
  agent?: AgentSettingsInput;
  /** what the actuator of an agent that did not answer does: the safe action (default) or its last command */
  missingAction?: 'safe' | 'hold';
  /** keep per-tick traces (positions, actions, tiers, who heard whom) for the report */
  trace?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface TickTrace {
  episode: number;
  tick: number;
  agents: number[][];
  landmarks: number[][];
  actions: number[];
  /** null: no action arrived (held) */
  tiers: (Tier | null)[];
  /** per agent, the peers heard in the last round (in-process agents only) */
  heard: string[][] | null;
  reward: number;
  faults: FaultEvent[];
}

export interface SimReport {
  episodes: number;
  seed: number;
  agent_return_mean: number;
  team_return_mean: number;
  episode_team_returns: number[];
  outcomes: Record<string, number>;
  /** per info key, each episode's value at its last step */
  episode_outcomes_final: Record<string, number[]>;
  tick_ms: { p50: number; p99: number };
  tiers: Record<Tier, number>;
  /** actions that did not arrive in time (replaced as missing_action says) */
  missing_actions: number;
  missing_action: 'safe' | 'hold';
  messages: { sent: number; delivered: number; dropped: number; bytes_per_agent_tick: number };
  faults_applied: Partial<Record<FaultKind, number>>;
  /** the agents' own counters summed over the fleet (refusals by reason, deadline misses, safe actions by reason); in-process agents only */
  agent_counters: AgentSnapshot | null;
  mode: FleetMode;
  broker: string;
  agents: string[];
  trace?: TickTrace[];
}

export class SimError extends Error {
  readonly code = 'FM_ERR_SIM';
}

/** Refuses, before anything runs, a fault this fleet mode cannot apply. */
export function checkPlanFitsMode(plan: FaultPlan | null, mode: FleetMode): void {
  if (mode !== 'inproc' && plan?.faults.some((f) => f.kind === 'slow_inference')) {
    throw new SimError('slow_inference needs --mode inproc: an agent in another thread or process cannot be slowed from outside without freezing it');
  }
}

export async function simulate(o: SimOptions): Promise<SimReport> {
  const ownsBundle = typeof o.bundle === 'string';
  const bundle = typeof o.bundle === 'string' ? await loadBundle(o.bundle) : o.bundle;
  const run = new Simulation(o, bundle);
  try {
    return await run.play();
  } finally {
    await run.close();
    if (ownsBundle) await bundle.close();
  }
}

class Simulation {
  private readonly world: BatchedWorld;
  private readonly ids: string[];
  private readonly mode: FleetMode;
  private readonly fleet: string;
  private readonly engine: FaultEngine | null;
  private broker: FleetBroker | null = null;
  private brokerUrl = '';
  private brokerPort = 0;
  private readonly proxies = new Map<string, LinkProxy>();
  private readonly members = new Map<string, FleetMember>();
  private watcher: MqttClient | null = null;
  private readonly heartbeats = new Map<string, number>();
  private readonly safe: number[];
  private readonly counts = { sent: 0, delivered: 0, bytes: 0 };
  private pending: { tick: number; got: Map<string, ActionOut>; want: Set<string>; resolve: () => void } | null = null;
  private readonly sentAt = new Map<string, number>();
  private readonly latencies: number[] = [];
  private readonly lastHeard = new Map<string, string[]>();
  private readonly downSince = new Map<string, number>();
  private brokerDown = false;
  /** ticks since the run began: what agents see (theirs must only increase) */
  private globalTick = 0;
  /** per-run users (auth on): username → password, and the folder of their users file */
  private credentials: Map<string, string> | null = null;
  private usersDir: string | null = null;
  private users: UsersFile | undefined;

  constructor(private readonly o: SimOptions, private readonly bundle: LoadedBundle) {
    const m = bundle.manifest;
    this.world = makeWorld(m.world.id, { numEnvs: 1, autoReset: false, config: m.world.config });
    this.ids = [...this.world.possibleAgents];
    for (const id of this.ids) bundle.agent(id); // every agent of the world must be in the bundle
    this.safe = this.ids.map((id) => bundle.agent(id).role.spec.safe_action);
    this.mode = o.mode ?? 'inproc';
    this.fleet = o.fleet ?? `sim-${process.pid}-${Date.now().toString(36)}`;
    const comm = m.communication;
    checkPlanFitsMode(o.faults ?? null, this.mode);
    this.engine = o.faults ? new FaultEngine(o.faults, this.ids, o.seed, comm && { size: comm.message_size, quantization: comm.quantization }) : null;
  }

  private async startBroker(port = 0): Promise<void> {
    this.broker = await startBroker({ port, users: this.users, allowAnonymous: !this.users, drainTimeoutMs: 2_000, connectionBurst: 5_000 });
    this.brokerPort = this.broker.port;
  }

  async play(): Promise<SimReport> {
    const o = this.o;
    if (o.auth) {
      if (o.broker && o.broker !== 'embedded') throw new SimError('auth: the run makes its users for the embedded broker; an external broker has its own');
      await this.makeUsers();
    }
    if (!o.broker || o.broker === 'embedded') {
      await this.startBroker();
      this.brokerUrl = this.broker!.url;
    } else this.brokerUrl = o.broker;
    const target = new URL(this.brokerUrl.replace(/^mqtt:/, 'http:'));
    for (const id of this.ids) {
      const proxy = await new LinkProxy({ host: target.hostname, port: Number(target.port || 1883) }, {
        up: (packet, send) => {
          if (packet.topic.endsWith('/msg')) { this.counts.sent++; this.counts.bytes += (packet.payload as Buffer).length; }
          if (this.engine) this.engine.upFilter(id)(packet, send);
          else send(packet);
        },
        down: (packet, send) => {
          const count = (p: typeof packet) => { if (p.topic.endsWith('/msg')) this.counts.delivered++; send(p); };
          if (this.engine) this.engine.downFilter(id)(packet, count);
          else count(packet);
        },
      }).start();
      this.proxies.set(id, proxy);
    }
    await this.watchHeartbeats();
    const settings: AgentSettingsInput = { heartbeatMs: 100, peerTimeoutMs: 500, roundDeadlineMs: 50, ...o.agent };
    for (const id of this.ids) {
      const member = createMember(this.mode, {
        id, bundle: this.bundle, fleet: this.fleet, brokerUrl: this.proxies.get(id)!.url, settings,
        credentials: this.credentials ? { username: id, password: this.credentials.get(id)! } : undefined,
        onAction: (agent, action) => this.onAction(agent, action),
        onTick: (agent, r: TickRecord) => this.lastHeard.set(agent, r.heard.at(-1) ?? []),
      });
      this.members.set(id, member);
    }
    await Promise.all([...this.members.values()].map((m) => m.start()));
    await this.untilFleetHearsItself(settings.heartbeatMs ?? 100);
    return this.episodes();
  }

  private async watchHeartbeats(): Promise<void> {
    const world = this.credentials ? { username: 'world', password: this.credentials.get('world')! } : {};
    const client = mqttConnect(this.brokerUrl, { reconnectPeriod: 200, clientId: this.credentials ? 'world' : `${this.fleet}-world`, ...world });
    this.watcher = client;
    client.on('error', () => {});
    client.on('message', (_topic, payload) => {
      try {
        const hb = decodeHeartbeat(payload);
        if (hb.online) this.heartbeats.set(hb.agent, (this.heartbeats.get(hb.agent) ?? 0) + 1);
      } catch { /* not ours to judge */ }
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      setTimeout(() => reject(new SimError(`cannot reach the broker at ${this.brokerUrl}`)), 5_000);
    });
    await client.subscribeAsync(`fm/${this.fleet}/a/+/hb`);
  }

  /** every agent's heartbeat seen twice after all started: each has heard every other */
  private async untilFleetHearsItself(heartbeatMs: number): Promise<void> {
    this.heartbeats.clear();
    const deadline = performance.now() + 15_000;
    while (!this.ids.every((id) => (this.heartbeats.get(id) ?? 0) >= 2)) {
      if (performance.now() > deadline) {
        throw new SimError(`agents ${this.ids.filter((id) => (this.heartbeats.get(id) ?? 0) < 2).join(', ')} did not come online within 15 s`);
      }
      await sleep(heartbeatMs / 2);
    }
  }

  private onAction(agent: string, action: ActionOut): void {
    const p = this.pending;
    if (!p || action.tick !== p.tick || !p.want.has(agent) || p.got.has(agent)) return;
    p.got.set(agent, action);
    const sent = this.sentAt.get(agent);
    if (sent !== undefined) this.latencies.push(performance.now() - sent);
    if (p.got.size === p.want.size && !this.o.hz) p.resolve();
  }

  /** crash / restart, freeze / thaw, slow inference, broker outage: transitions at this tick */
  private async applyAgentFaults(): Promise<void> {
    const e = this.engine;
    if (!e) return;
    const crashed = e.agentsUnder('crash');
    for (const [id, member] of this.members) {
      const fault = crashed.get(id);
      const downFor = this.downSince.has(id) ? this.globalTick - this.downSince.get(id)! : 0;
      const keepDown = fault && fault.kind === 'crash' && (fault.restart_after_ticks === undefined || downFor < fault.restart_after_ticks);
      if (keepDown && member.running && !this.downSince.has(id)) {
        await member.crash();
        this.downSince.set(id, this.globalTick);
        e.record('crash', id);
      } else if (!keepDown && !member.running) {
        await member.start();
        e.record('crash', `${id} restarted`);
      }
      if (!fault) this.downSince.delete(id);
    }
    const frozen = e.agentsUnder('freeze');
    for (const [id, member] of this.members) {
      if (frozen.has(id)) { member.freeze(); e.record('freeze', id); } else member.thaw();
    }
    const slow = e.agentsUnder('slow_inference');
    for (const [id, member] of this.members) {
      const f = slow.get(id);
      member.slowInference(f && f.kind === 'slow_inference' ? f.ms : 0);
      if (f) e.record('slow_inference', id);
    }
    const outage = e.brokerOutage();
    if (outage && !this.brokerDown) {
      this.brokerDown = true;
      e.record('broker_outage', 'broker');
      if (this.broker) { await this.broker.close(); this.broker = null; } else for (const p of this.proxies.values()) await p.cut();
    } else if (!outage && this.brokerDown) {
      this.brokerDown = false;
      e.record('broker_outage', 'broker back');
      if (this.o.broker && this.o.broker !== 'embedded') for (const p of this.proxies.values()) await p.restore();
      else await this.startBroker(this.brokerPort);
    }
  }

  private async episodes(): Promise<SimReport> {
    const o = this.o;
    const world = this.world;
    const n = this.ids.length;
    const teamReturns: number[] = [];
    const agentReturnsAll: number[] = [];
    const outcomeSums: Record<string, number[]> = {};
    const outcomeFinals: Record<string, number[]> = {};
    for (const key of world.infoKeys) { outcomeSums[key] = []; outcomeFinals[key] = []; }
    const tiers: Record<Tier, number> = { full: 0, partial: 0, none: 0, safe: 0 };
    let missing = 0;
    let agentTicks = 0;
    const trace: TickTrace[] = [];
    const actions = new Int32Array(n);
    const timeoutMs = o.hz ? 1000 / o.hz : (o.tickTimeoutMs ?? 500);
    for (let episode = 0; episode < o.episodes; episode++) {
      let observations = world.reset(o.seed, episode).observations;
      const agentReturns = new Float64Array(n);
      const sums: Record<string, number> = Object.fromEntries(world.infoKeys.map((k) => [k, 0]));
      const finals: Record<string, number> = {};
      actions.set(this.safe);
      for (let t = 0; ; t++) {
        this.globalTick++;
        this.engine?.setClock(episode, t);
        const firstEvent = this.engine?.events.length ?? 0; // this tick's faults are logged from here on
        await this.applyAgentFaults();
        // crashed and frozen agents cannot answer: their actuators hold (not waited for, counted missing)
        const frozen = this.engine?.agentsUnder('freeze');
        const want = new Set(this.ids.filter((id) => this.members.get(id)!.running && !frozen?.has(id)));
        const got = new Map<string, ActionOut>();
        const started = performance.now();
        const done = new Promise<void>((resolve) => { this.pending = { tick: this.globalTick, got, want, resolve }; });
        this.lastHeard.clear();
        this.ids.forEach((id, i) => {
          if (!want.has(id)) return;
          const values = observations[i].slice();
          this.sentAt.set(id, performance.now());
          this.members.get(id)!.observe(this.globalTick, this.engine ? this.engine.observe(id, values) : values);
        });
        if (want.size > 0) await Promise.race([done, sleep(timeoutMs)]);
        if (o.hz) await sleep(Math.max(0, timeoutMs - (performance.now() - started)));
        this.pending = null;
        const tickTiers = this.ids.map((id, i) => {
          const a = got.get(id);
          if (!a) {
            missing++;
            if (o.missingAction !== 'hold') actions[i] = this.safe[i]; // else actions[i] keeps the previous command
            return null;
          }
          actions[i] = a.action;
          tiers[a.tier]++;
          return a.tier;
        });
        agentTicks += n;
        const snap = o.trace ? world.snapshot(0) : null;
        const r = world.step(actions);
        let reward = 0;
        for (let i = 0; i < n; i++) { agentReturns[i] += r.rewards[i]; reward += r.rewards[i]; }
        for (const key of world.infoKeys) { sums[key] += r.infos[key][0]; finals[key] = r.infos[key][0]; }
        if (snap) {
          trace.push({
            episode, tick: t, agents: snap.agentPos.map((p) => [...p]), landmarks: snap.landmarkPos.map((p) => [...p]),
            actions: Array.from(actions), tiers: tickTiers, heard: this.mode === 'inproc' ? this.ids.map((id) => this.lastHeard.get(id) ?? []) : null,
            reward, faults: this.engine ? this.engine.events.slice(firstEvent) : [],
          });
        }
        observations = r.observations;
        if (r.episodeEnded[0]) break;
      }
      let team = 0;
      for (let i = 0; i < n; i++) { team += agentReturns[i]; agentReturnsAll.push(agentReturns[i]); }
      teamReturns.push(team);
      for (const key of world.infoKeys) { outcomeSums[key].push(sums[key]); outcomeFinals[key].push(finals[key]); }
      o.onProgress?.(episode + 1, o.episodes);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const outcomes: Record<string, number> = {};
    for (const key of world.infoKeys) { outcomes[key] = mean(outcomeSums[key]); outcomes[`${key}_final`] = mean(outcomeFinals[key]); }
    const lat = [...this.latencies].sort((a, b) => a - b);
    const q = (p: number) => (lat.length ? Number(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(3)) : 0);
    const applied = this.engine?.applied ?? {};
    const dropped = (applied.drop ?? 0) + (applied.burst_drop ?? 0) + (applied.partition ?? 0);
    return {
      episodes: o.episodes,
      seed: o.seed,
      agent_return_mean: mean(agentReturnsAll),
      team_return_mean: mean(teamReturns),
      episode_team_returns: teamReturns,
      outcomes,
      episode_outcomes_final: outcomeFinals,
      tick_ms: { p50: q(0.5), p99: q(0.99) },
      tiers,
      missing_actions: missing,
      missing_action: o.missingAction ?? 'safe',
      messages: { sent: this.counts.sent, delivered: this.counts.delivered, dropped, bytes_per_agent_tick: Number((this.counts.bytes / Math.max(1, agentTicks)).toFixed(1)) },
      faults_applied: { ...applied },
      agent_counters: this.mode === 'inproc' ? [...this.members.values()].map((m) => m.counters()!).reduce(addSnapshots) : null,
      mode: this.mode,
      broker: !o.broker || o.broker === 'embedded' ? 'embedded' : o.broker,
      agents: this.ids,
      ...(o.trace ? { trace } : {}),
    };
  }

  /** Users for this run only: each agent its own (ACLs confine it to its subtree), the world one. */
  private async makeUsers(): Promise<void> {
    this.usersDir = mkdtempSync(join(tmpdir(), 'fm-sim-users-'));
    this.users = await UsersFile.load(join(this.usersDir, 'users.json'), { createIfMissing: true });
    this.credentials = new Map();
    const password = () => randomBytes(18).toString('base64url');
    // cheap scrypt: throwaway users of one run, never stored beyond it
    for (const id of this.ids) {
      this.credentials.set(id, password());
      await this.users.add({ username: id, role: 'agent', fleet: this.fleet, agent: id }, this.credentials.get(id)!, { scryptCost: 1024 });
    }
    this.credentials.set('world', password());
    await this.users.add({ username: 'world', role: 'world', fleet: this.fleet }, this.credentials.get('world')!, { scryptCost: 1024 });
  }

  async close(): Promise<void> {
    await Promise.all([...this.members.values()].map((m) => m.stop().catch(() => {})));
    this.watcher?.end(true);
    for (const p of this.proxies.values()) await p.close();
    await this.broker?.close();
    if (this.usersDir) rmSync(this.usersDir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
