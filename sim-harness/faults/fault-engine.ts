// Applying a fault plan as a simulation runs: the link filters each agent's proxy calls for its
// MQTT traffic, the observation transforms the world server calls, and which agents are crashed,
// frozen or slowed now. Every fault that strikes is counted by kind and logged per tick, so a
// report can show what happened and when. Random choices come from the run's seed.

import type { IPublishPacket } from 'mqtt-packet';
import { decodePeerMessage, encodePeerMessage, parseTopic, type Quantization } from '@fleetmind/wire';
import { Rng } from '@fleetmind/worlds';
import { windowOpen, type AgentSelector, type Fault, type FaultKind, type FaultPlan } from './fault-plan.js';
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

export class FaultEngine {
  readonly applied: Partial<Record<FaultKind, number>> = {};
  readonly events: FaultEvent[] = [];
  private readonly faults: ResolvedFault[];
  private readonly rng: Rng;
  private episode = 0;
  private tick = 0;
  /** Gilbert–Elliott state per fault and link: true = bad */
  private readonly burstState = new Map<string, boolean>();
  private readonly stuck = new Map<string, Float32Array>();
  private readonly held = new Map<string, IPublishPacket>();
  private readonly loggedThisTick = new Set<string>();
  private readonly underNow = new Map<AgentFaultKind, Map<string, Fault>>();

  constructor(plan: FaultPlan, private readonly agentIds: readonly string[], seed: number, private readonly message: { size: number; quantization: Quantization } | null) {
    this.rng = new Rng(seed, 0xfa);
    const pick = (s: AgentSelector) => this.select(s);
    this.faults = plan.faults.map((fault) => {
      const r: ResolvedFault = { fault, agents: new Set(), from: new Set(), to: new Set(), group: new Map() };
      if ('agents' in fault) r.agents = pick(fault.agents);
      if ('links' in fault) { r.from = pick(fault.links.from); r.to = pick(fault.links.to); }
      if (fault.kind === 'partition') fault.groups.forEach((g, k) => g.forEach((a) => r.group.set(a, k)));
      return r;
    });
    const unknown = plan.faults.flatMap((f) => (f.kind === 'partition' ? f.groups.flat() : [])).filter((a) => !agentIds.includes(a));
    if (unknown.length) throw new Error(`fault plan names agents not in the fleet: ${unknown.join(', ')}`);
  }

  private select(s: AgentSelector): Set<string> {
    if (s === '*') return new Set(this.agentIds);
    if (Array.isArray(s)) {
      const unknown = s.filter((a) => !this.agentIds.includes(a));
      if (unknown.length) throw new Error(`fault plan names agents not in the fleet: ${unknown.join(', ')}`);
      return new Set(s);
    }
    const count = Math.max(1, Math.round(s.fraction * this.agentIds.length));
    const pool = [...this.agentIds];
    for (let k = pool.length - 1; k > 0; k--) { const j = this.rng.int(k + 1); [pool[k], pool[j]] = [pool[j], pool[k]]; }
    return new Set(pool.slice(0, count));
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
    for (const f of this.faults) {
      if (!f.agents.has(agent) || !this.active(f)) continue;
      const fault = f.fault;
      if (fault.kind === 'sensor_noise') {
        out = out.map((v) => v + fault.sigma * gaussian(this.rng));
        this.strike(fault.kind, agent);
      } else if (fault.kind === 'sensor_stuck') {
        if (!this.stuck.has(agent)) this.stuck.set(agent, out.slice());
        out = this.stuck.get(agent)!.slice();
        this.strike(fault.kind, agent);
      } else if (fault.kind === 'sensor_nan' && this.rng.next() < fault.p) {
        out = out.slice();
        out[this.rng.int(out.length)] = Number.NaN;
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
      let delayMs = 0;
      let copies = 1;
      let out = packet;
      for (const f of this.faults) {
        if (!this.active(f)) continue;
        const fault = f.fault;
        if (fault.kind === 'partition') {
          const a = f.group.get(sender);
          const b = f.group.get(receiver);
          if (a !== undefined && b !== undefined && a !== b) { this.strike('partition', link); return; }
          continue;
        }
        if (topic.channel !== 'msg' || !('links' in fault) || !f.from.has(sender) || !f.to.has(receiver)) continue;
        switch (fault.kind) {
          case 'drop':
            if (this.rng.next() < fault.p) { this.strike('drop', link); return; }
            break;
          case 'burst_drop': {
            const key = `${this.faults.indexOf(f)}|${link}`;
            let bad = this.burstState.get(key) ?? false;
            bad = bad ? this.rng.next() >= fault.p_bad_to_good : this.rng.next() < fault.p_good_to_bad;
            this.burstState.set(key, bad);
            if (this.rng.next() < (bad ? fault.loss_bad : fault.loss_good)) { this.strike('burst_drop', link); return; }
            break;
          }
          case 'delay':
            delayMs += fault.ms + (fault.jitter_ms > 0 ? this.rng.uniform(-fault.jitter_ms, fault.jitter_ms) : 0);
            this.strike('delay', link);
            break;
          case 'duplicate':
            if (this.rng.next() < fault.p) { copies++; this.strike('duplicate', link); }
            break;
          case 'corrupt':
            if (this.rng.next() < fault.p) {
              const payload = Buffer.from(out.payload as Buffer);
              for (let k = 0; k < 3; k++) payload[this.rng.int(payload.length)] ^= 1 + this.rng.int(255);
              out = { ...out, payload };
              this.strike('corrupt', link);
            }
            break;
          case 'reorder':
            if (this.rng.next() < fault.p) {
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
      if (!hostile || hostile.kind !== 'hostile' || !topic || topic.channel !== 'msg' || !this.message) return send(packet);
      // plausible but wrong: a well-formed message of the right size with random contents …
      try {
        const m = decodePeerMessage(packet.payload as Buffer, this.message.size, this.message.quantization);
        const payload = m.payload.map(() => this.rng.int(256));
        send({ ...packet, payload: Buffer.from(encodePeerMessage({ ...m, payload, scale: m.scale * (0.5 + this.rng.next() * 4) })) });
      } catch {
        send(packet);
      }
      // … and garbage
      for (let k = 0; k < hostile.garbage_per_tick; k++) {
        send({ ...packet, payload: Buffer.from(Array.from({ length: 1 + this.rng.int(200) }, () => this.rng.int(256))) });
      }
      this.strike('hostile', sender);
    };
  }
}

function gaussian(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}
