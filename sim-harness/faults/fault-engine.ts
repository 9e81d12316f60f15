// Applying a fault plan as a simulation runs: the link filters each agent's proxy calls for its
// MQTT traffic, the observation transforms the world server calls, and which agents are crashed,
// frozen or slowed now. Every fault that strikes is counted by kind and logged per tick, so a
// report can show what happened and when.
//
// Determinism: every random choice comes from the run's seed through a stream of its own — one
// per link and fault for the network, one per agent for sensors and lies — so what a message
// meets does not depend on which proxy happened to forward a packet first. In lockstep
// (`logical`), time is simulated too: a message the network loses (dropped, partitioned,
// reordered behind the next, corrupted beyond reading, or delayed past the round deadline) is
// replaced on the receiver's link by a LostNotice, so the receiver's round completes as soon as
// everything that will arrive has arrived — never by racing a wall-clock deadline.

import type { IPublishPacket } from 'mqtt-packet';
import { agentTopic, decodePeerMessage, encodeHeartbeat, encodeLostNotice, encodePeerMessage, parseTopic, type PeerMessage, type Quantization } from '@fleetmind/wire';
import { Rng } from '@fleetmind/worlds';
import { FaultPlanError, windowOpen, type AgentSelector, type Fault, type FaultKind, type FaultPlan } from './fault-plan.js';
import type { PublishFilter } from '../network/link-proxy.js';

export interface FaultEvent {
  episode: number;
  tick: number;
  kind: FaultKind;
  /** the agents (or link) it struck */
  target: string;
}

type AgentFaultKind = 'crash' | 'freeze' | 'slow_inference' | 'hostile';

interface ResolvedFault {
  fault: Fault;
  agents: Set<string>;
  from: Set<string>;
  to: Set<string>;
  /** partition: agent → group index */
  group: Map<string, number>;
}

export interface FaultEngineOptions {
  /**
   * the bundle's message layout (to read and forge peer messages) and its rounds (a gated policy's
   * silence, sent once, stands for every round); null without communication
   */
  message: { size: number; quantization: Quantization; rounds?: number } | null;
  /** lockstep: simulated time, LostNotices, and delays compared with this round deadline (ms) */
  logical?: { roundDeadlineMs: number } | null;
}

export class FaultEngine {
  readonly applied: Partial<Record<FaultKind, number>> = {};
  readonly events: FaultEvent[] = [];
  private readonly faults: ResolvedFault[];
  /** agent selection, made once when the plan is resolved */
  private readonly rng: Rng;
  /** the other random streams, one per key (link and fault, or agent and purpose) */
  private readonly streams = new Map<string, Rng>();
  private readonly message: FaultEngineOptions['message'];
  private readonly logical: FaultEngineOptions['logical'];
  private episode = 0;
  private tick = 0;
  /** Gilbert–Elliott state per fault and link: true = bad */
  private readonly burstState = new Map<string, boolean>();
  private readonly stuck = new Map<string, Float32Array>();
  private readonly held = new Map<string, IPublishPacket>();
  private readonly loggedThisTick = new Set<string>();
  private readonly underNow = new Map<AgentFaultKind, Map<string, Fault>>();

  constructor(plan: FaultPlan, private readonly agentIds: readonly string[], private readonly seed: number, options: FaultEngineOptions) {
    this.rng = new Rng(seed, 0xfa);
    this.message = options.message;
    this.logical = options.logical ?? null;
    const pick = (s: AgentSelector) => this.select(s);
    this.faults = plan.faults.map((fault) => {
      const r: ResolvedFault = { fault, agents: new Set(), from: new Set(), to: new Set(), group: new Map() };
      if ('agents' in fault) r.agents = pick(fault.agents);
      if ('links' in fault) { r.from = pick(fault.links.from); r.to = pick(fault.links.to); }
      if (fault.kind === 'partition') fault.groups.forEach((g, k) => g.forEach((a) => r.group.set(a, k)));
      return r;
    });
    const unknown = plan.faults.flatMap((f) => (f.kind === 'partition' ? f.groups.flat() : [])).filter((a) => !agentIds.includes(a));
    if (unknown.length) throw new FaultPlanError(`the fault plan names agents not in the fleet: ${unknown.join(', ')} (the fleet: ${agentIds.join(', ')})`);
  }

  private select(s: AgentSelector): Set<string> {
    if (s === '*') return new Set(this.agentIds);
    if (Array.isArray(s)) {
      const unknown = s.filter((a) => !this.agentIds.includes(a));
      if (unknown.length) throw new FaultPlanError(`the fault plan names agents not in the fleet: ${unknown.join(', ')} (the fleet: ${this.agentIds.join(', ')})`);
      return new Set(s);
    }
    const count = Math.max(1, Math.round(s.fraction * this.agentIds.length));
    const pool = [...this.agentIds];
    for (let k = pool.length - 1; k > 0; k--) { const j = this.rng.int(k + 1); [pool[k], pool[j]] = [pool[j], pool[k]]; }
    return new Set(pool.slice(0, count));
  }

  /** The random stream for `key`, made from the run's seed on first use. */
  private stream(key: string): Rng {
    let rng = this.streams.get(key);
    if (!rng) this.streams.set(key, (rng = new Rng(this.seed, 0xfa, fnv1a(key))));
    return rng;
  }

  /** messages a receiver was out of the sender's radio range for (`setRange`), not counted as faults */
  outOfRange = 0;
  /** the links (`sender->receiver`) out of radio range this tick, and the tick on the wire they hold for */
  private range: { tick: number; links: ReadonlySet<string> } | null = null;

  /**
   * Radio range: this tick's peer messages on these links are lost, as a policy trained with a
   * communication radius never hears a teammate beyond it (in lockstep the receiver is told, as for
   * any lost message). `tick`: the tick the agents' messages carry.
   */
  setRange(tick: number, links: ReadonlySet<string>): void {
    this.range = { tick, links };
  }

  setClock(episode: number, tick: number): void {
    this.episode = episode;
    this.tick = tick;
    this.loggedThisTick.clear();
    this.underNow.clear();
  }

  private active(f: ResolvedFault): boolean {
    return windowOpen(f.fault.window, this.episode, this.tick);
  }

  private strike(kind: FaultKind, target: string): void {
    this.applied[kind] = (this.applied[kind] ?? 0) + 1;
    const key = `${kind}|${target}`;
    if (!this.loggedThisTick.has(key)) {
      this.loggedThisTick.add(key);
      this.events.push({ episode: this.episode, tick: this.tick, kind, target });
    }
  }

  /** Agents an agent-level fault of this kind holds now. */
  agentsUnder(kind: AgentFaultKind): Map<string, Fault> {
    // asked for every packet a proxy forwards: worked out once per tick
    let out = this.underNow.get(kind);
    if (!out) {
      out = new Map<string, Fault>();
      for (const f of this.faults) if (f.fault.kind === kind && this.active(f)) for (const a of f.agents) out.set(a, f.fault);
      this.underNow.set(kind, out);
    }
    return out;
  }

  brokerOutage(): boolean {
    return this.faults.some((f) => f.fault.kind === 'broker_outage' && this.active(f));
  }

  /** Records an agent-level fault striking (crash, restart, freeze …), for counts and the replay. */
  record(kind: FaultKind, target: string): void {
    this.strike(kind, target);
  }

  /** The observation an agent's sensors deliver under the sensor faults now active. */
  observe(agent: string, values: Float32Array): Float32Array {
    let out = values;
    const rng = this.stream(`sensor|${agent}`);
    for (const f of this.faults) {
      if (!f.agents.has(agent) || !this.active(f)) continue;
      const fault = f.fault;
      if (fault.kind === 'sensor_noise') {
        out = out.map((v) => v + fault.sigma * gaussian(rng));
        this.strike(fault.kind, agent);
      } else if (fault.kind === 'sensor_stuck') {
        if (!this.stuck.has(agent)) this.stuck.set(agent, out.slice());
        out = this.stuck.get(agent)!.slice();
        this.strike(fault.kind, agent);
      } else if (fault.kind === 'sensor_nan' && rng.next() < fault.p) {
        out = out.slice();
        out[rng.int(out.length)] = Number.NaN;
        this.strike(fault.kind, agent);
      }
    }
    if (!this.faults.some((f) => f.fault.kind === 'sensor_stuck' && f.agents.has(agent) && this.active(f))) this.stuck.delete(agent);
    return out;
  }

  /** broker → agent: what the network does to the peer traffic this agent receives. */
  downFilter(receiver: string): PublishFilter {
    return (packet, send) => {
      const topic = parseTopic(packet.topic);
      if (!topic || topic.kind !== 'agent' || (topic.channel !== 'msg' && topic.channel !== 'hb')) return send(packet);
      const sender = topic.agent;
      const link = `${sender}->${receiver}`;
      const message = topic.channel === 'msg' ? this.read(packet.payload as Buffer) : null;
      // In lockstep a packet that is no message (a hostile agent's garbage) belongs to no round: the
      // network's faults could change nothing a round hears, and a draw for it would make the fate of
      // every later message on its link depend on how many such packets reached a receiver before it
      // crashed — a race with the SIGKILL, not a seed. It goes through untouched.
      if (this.logical && topic.channel === 'msg' && !message) return send(packet);
      /** the message will not arrive: in lockstep the receiver is told so */
      const lose = (kind: FaultKind) => {
        this.strike(kind, link);
        if (this.logical && message) this.noticesFor(topic.fleet, message).forEach(send);
      };
      if (message && this.range && message.tick === this.range.tick && this.range.links.has(link)) {
        this.outOfRange++;
        if (this.logical) this.noticesFor(topic.fleet, message).forEach(send);
        return;
      }
      let delayMs = 0;
      let copies = 1;
      let out = packet;
      for (const [index, f] of this.faults.entries()) {
        if (!this.active(f)) continue;
        const fault = f.fault;
        if (fault.kind === 'partition') {
          const a = f.group.get(sender);
          const b = f.group.get(receiver);
          if (a !== undefined && b !== undefined && a !== b) return lose('partition');
          continue;
        }
        if (topic.channel !== 'msg' || !('links' in fault) || !f.from.has(sender) || !f.to.has(receiver)) continue;
        // messages on one link arrive in the order they were sent, so a stream per link and fault is reproducible
        const rng = this.stream(`${index}|${link}`);
        switch (fault.kind) {
          case 'drop':
            if (rng.next() < fault.p) return lose('drop');
            break;
          case 'burst_drop': {
            const key = `${index}|${link}`;
            let bad = this.burstState.get(key) ?? false;
            bad = bad ? rng.next() >= fault.p_bad_to_good : rng.next() < fault.p_good_to_bad;
            this.burstState.set(key, bad);
            if (rng.next() < (bad ? fault.loss_bad : fault.loss_good)) return lose('burst_drop');
            break;
          }
          case 'delay':
            delayMs += fault.ms + (fault.jitter_ms > 0 ? rng.uniform(-fault.jitter_ms, fault.jitter_ms) : 0);
            this.strike('delay', link);
            break;
          case 'duplicate':
            if (rng.next() < fault.p) { copies++; this.strike('duplicate', link); }
            break;
          case 'corrupt':
            if (rng.next() < fault.p) {
              const payload = Buffer.from(out.payload as Buffer);
              for (let k = 0; k < 3; k++) payload[rng.int(payload.length)] ^= 1 + rng.int(255);
              out = { ...out, payload };
              this.strike('corrupt', link);
              // unreadable, or now claiming another sender, tick or round: lost for its own round
              const readable = this.read(payload);
              if (this.logical && message && !(readable && sameSlot(readable, message))) this.noticesFor(topic.fleet, message).forEach(send);
            }
            break;
          case 'reorder':
            if (rng.next() < fault.p) {
              if (this.logical) return lose('reorder'); // overtaken by the next message: too late for its round
              // held back until the next message on this link overtakes it
              const earlier = this.held.get(link);
              this.held.set(link, out);
              if (earlier) send(earlier);
              this.strike('reorder', link);
              return;
            }
            break;
          default:
            break;
        }
      }
      if (this.logical && delayMs > 0) {
        // simulated time: a delay shorter than the round deadline arrives within the round
        if (delayMs >= this.logical.roundDeadlineMs) {
          if (message) this.noticesFor(topic.fleet, message).forEach(send); // counted as a delay above
          return;
        }
        delayMs = 0;
      }
      const deliver = () => {
        for (let k = 0; k < copies; k++) send(out);
        const overtaken = this.held.get(link);
        if (overtaken) { this.held.delete(link); send(overtaken); }
      };
      if (delayMs > 0) setTimeout(deliver, Math.max(0, delayMs));
      else deliver();
    };
  }

  /** agent → broker: a frozen agent says nothing; a hostile one lies under its own id. */
  upFilter(sender: string): PublishFilter {
    return (packet, send) => {
      if (this.agentsUnder('freeze').has(sender)) return;
      const topic = parseTopic(packet.topic);
      const hostile = this.agentsUnder('hostile').get(sender);
      if (!hostile || hostile.kind !== 'hostile' || topic?.kind !== 'agent' || topic.channel !== 'msg' || !this.message) return send(packet);
      const rng = this.stream(`hostile|${sender}`);
      // plausible but wrong: a well-formed message of the right size with random contents …
      const m = this.read(packet.payload as Buffer);
      if (m) {
        const payload = m.payload.map(() => rng.int(256));
        send({ ...packet, payload: Buffer.from(encodePeerMessage({ ...m, payload, scale: m.scale * (0.5 + rng.next() * 4) })) });
      } else send(packet);
      // … and garbage
      for (let k = 0; k < hostile.garbage_per_tick; k++) {
        send({ ...packet, payload: Buffer.from(Array.from({ length: 1 + rng.int(200) }, () => rng.int(256))) });
      }
      this.strike('hostile', sender);
    };
  }

  /** a peer message as the bundle lays it out, or null if it is not one */
  /** Lockstep: the notices for a lost message — one, or one per round for a silence (wire 1.6), which stood for them all. */
  private noticesFor(fleet: string, m: PeerMessage): IPublishPacket[] {
    return m.silent ? absenceNotices(fleet, m.agent, m.tick, m.episode ?? 0, this.message?.rounds ?? 1) : [lostNotice(fleet, m)];
  }

  private read(payload: Buffer): PeerMessage | null {
    if (!this.message) return null;
    try {
      return decodePeerMessage(payload, this.message.size, this.message.quantization);
    } catch {
      return null;
    }
  }
}

/** Lockstep: the notices for the messages `sender` will not send at `tick` of `episode` (it is down or frozen), one per round. */
export function absenceNotices(fleet: string, sender: string, tick: number, episode: number, rounds: number): IPublishPacket[] {
  return Array.from({ length: rounds }, (_, k) => lostNotice(fleet, { agent: sender, tick, round: k + 1, episode }));
}

/**
 * The heartbeat of an agent that has left the episode (standby), as it publishes it itself: handed
 * to its peers before the tick's observations, so that a round is not judged short of it.
 */
export function standbyNotice(fleet: string, agent: string, tick: number): IPublishPacket {
  return {
    cmd: 'publish', topic: agentTopic(fleet, agent, 'hb'), qos: 0, dup: false, retain: false,
    payload: Buffer.from(encodeHeartbeat({ agent, online: true, standby: true, tick, sentUs: Date.now() * 1000 })),
  };
}

function lostNotice(fleet: string, m: Pick<PeerMessage, 'agent' | 'tick' | 'round' | 'episode'>): IPublishPacket {
  return {
    cmd: 'publish', topic: agentTopic(fleet, m.agent, 'lost'), qos: 0, dup: false, retain: false,
    payload: Buffer.from(encodeLostNotice({ agent: m.agent, tick: m.tick, round: m.round, episode: m.episode })),
  };
}

/**
 * Whether a corrupted message still stands for the one it was: the same sender, tick and round,
 * and the same episode and silence — a receiver refuses a message of another episode as stale or
 * too early, so one whose episode a flipped byte changed is lost for its round like any other
 */
function sameSlot(a: PeerMessage, b: PeerMessage): boolean {
  return a.fleet === b.fleet && a.agent === b.agent && a.tick === b.tick && a.round === b.round
    && (a.episode ?? 0) === (b.episode ?? 0) && (a.silent ?? false) === (b.silent ?? false);
}

/** FNV-1a: a stream number from a key */
function fnv1a(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function gaussian(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}
