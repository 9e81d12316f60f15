// The operator's side of an over-the-air rollout (docs/rollout.md): read what the fleet runs,
// publish a bundle and a plan, roll back. Every publish is retained and acknowledged (QoS 1), so
// an agent that is offline now finds the plan and the chunks when it returns.

import { mkdtempSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { signBundle } from '@fleetmind/models';
import { bundleChunkTopic, decodeAgentStatus, fleetTopic, ID_PATTERN, parseTopic, WireError, type AgentStatus } from '@fleetmind/wire';
import { packBundle, DEFAULT_CHUNK_BYTES } from './bundle-offer.js';
import { agentRolloutReportSchema, parseRolloutJson, ROLLOUT_FORMAT, RolloutError, rolloutPlanSchema, type AgentRolloutReport, type BundleOffer, type RolloutPlan } from './rollout-plan.js';

export interface OperatorConnection {
  brokerUrl: string;
  fleet: string;
  username?: string;
  password?: string;
  tlsCa?: string | Buffer;
  tlsCert?: string | Buffer;
  tlsKey?: string | Buffer;
}

export class RolloutOperator {
  /** what the fleet says, kept current from the moment of connecting */
  private plan: RolloutPlan | null = null;
  private readonly reports = new Map<string, AgentRolloutReport>();
  private readonly statuses = new Map<string, AgentStatus>();
  private readonly unreadable: string[] = [];
  private readonly listeners = new Set<() => void>();

  private constructor(private readonly client: MqttClient, readonly fleet: string) {
    const planTopic = fleetTopic(fleet, 'rollout');
    client.on('message', (topic, payload) => {
      if (payload.length === 0) return;
      try {
        if (topic === planTopic) this.plan = parseRolloutJson(rolloutPlanSchema, payload, `the plan on ${topic}`);
        else {
          const t = parseTopic(topic);
          if (t?.kind !== 'agent') return;
          if (t.channel === 'status') {
            const status = decodeAgentStatus(payload);
            if (status.agent === t.agent) this.statuses.set(t.agent, status);
          } else if (t.channel === 'rollout') {
            const report = parseRolloutJson(agentRolloutReportSchema, payload, `the report on ${topic}`);
            if (report.agent !== t.agent) throw new RolloutError(`the report on ${topic} names agent ${report.agent}`);
            this.reports.set(report.agent, report);
          }
        }
      } catch (err) {
        if (!(err instanceof RolloutError) && !(err instanceof WireError)) throw err;
        this.unreadable.push(err.message);
      }
      this.listeners.forEach((listener) => listener());
    });
  }

  static async connect(o: OperatorConnection, timeoutMs = 5_000): Promise<RolloutOperator> {
    if (!ID_PATTERN.test(o.fleet)) throw new RolloutError(`fleet ${JSON.stringify(o.fleet)} must be 1-64 characters of A-Z a-z 0-9 _ . -`);
    const client = mqtt.connect(o.brokerUrl, {
      clientId: `${o.username ?? 'operator'}:rollout:${process.pid}:${Date.now() % 1e6}`,
      username: o.username, password: o.password, ca: o.tlsCa, cert: o.tlsCert, key: o.tlsKey,
      clean: true, reconnectPeriod: 0, connectTimeout: timeoutMs,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
        client.once('close', () => reject(new Error('the connection closed')));
      });
    } catch (err) {
      client.end(true);
      throw new RolloutError(`cannot reach the broker at ${o.brokerUrl}: ${(err as Error).message}`);
    }
    const operator = new RolloutOperator(client, o.fleet);
    await client.subscribeAsync([fleetTopic(o.fleet, 'rollout'), `fm/${o.fleet}/a/+/rollout`, `fm/${o.fleet}/a/+/status`], { qos: 1 });
    return operator;
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }

  /** The plan and the agents' reports as known now (retained ones arrive just after connecting). */
  now(): { plan: RolloutPlan | null; reports: AgentRolloutReport[]; statuses: Map<string, AgentStatus>; unreadable: string[] } {
    return { plan: this.plan, reports: [...this.reports.values()].sort((a, b) => a.agent.localeCompare(b.agent)), statuses: new Map(this.statuses), unreadable: [...this.unreadable] };
  }

  /** What is known after `waitMs` more (to let retained reports arrive). */
  async read(waitMs = 1_000): Promise<ReturnType<RolloutOperator['now']>> {
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    return this.now();
  }

  /** Resolves when `condition` holds on what the fleet says, or rejects with `what` after timeoutMs. */
  async until(condition: () => boolean, what: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (condition()) return;
    await new Promise<void>((resolve, reject) => {
      signal?.addEventListener('abort', () => check(), { once: true });
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => { this.listeners.delete(check); reject(new RolloutError(`timed out after ${timeoutMs} ms waiting until ${what}`)); }, timeoutMs);
      this.listeners.add(check);
    });
  }

  /**
   * Publishes a bundle's chunks (signed with `signingKeyPem` on the way when given), before any
   * plan names it. Refused before anything is published when a reporting agent runs a bundle whose
   * message layout differs: the team could not mix them.
   */
  async offer(o: { bundleDir: string; signingKeyPem?: string; chunkBytes?: number }): Promise<{ offer: BundleOffer; bytes: number; publishMs: number }> {
    let dir = o.bundleDir;
    let signed: string | null = null;
    if (o.signingKeyPem) {
      signed = mkdtempSync(join(tmpdir(), 'fm-rollout-'));
      cpSync(o.bundleDir, signed, { recursive: true });
      signBundle(signed, o.signingKeyPem, 'the operator key');
      dir = signed;
    }
    try {
      const packed = packBundle(dir, o.chunkBytes ?? DEFAULT_CHUNK_BYTES);
      const mismatched = [...this.reports.values()].filter((r) => r.layout !== packed.offer.layout);
      if (mismatched.length > 0) {
        throw new RolloutError(`refused before anything was published: bundle ${packed.offer.name} ${packed.offer.version} has message layout "${packed.offer.layout}", but ${mismatched.map((r) => `${r.agent} runs "${r.layout}"`).join(', ')}; agents of one team must read each other's messages`);
      }
      const started = performance.now();
      for (let k = 0; k < packed.offer.chunks.length; k++) {
        await this.publishOrFail(bundleChunkTopic(this.fleet, packed.offer.id, k), Buffer.from(packed.chunk(k)), `chunk ${k} (${packed.chunk(k).length} bytes; a broker closes the connection on a packet over its limit: lower --chunk-bytes)`);
      }
      return { offer: packed.offer, bytes: packed.totalBytes, publishMs: performance.now() - started };
    } finally {
      if (signed) rmSync(signed, { recursive: true, force: true });
    }
  }

  /** A plan assigning an offered bundle to `agents` (all when null); `replaces` records what each ran. */
  async assign(o: { rollout: string; offer: BundleOffer; agents: string[] | null; switchAtTick: number | null; replaces?: Record<string, string>; shadow?: boolean; spreadMs?: number; stage?: RolloutPlan['stage'] }): Promise<RolloutPlan> {
    if (!ID_PATTERN.test(o.rollout)) throw new RolloutError(`rollout name ${JSON.stringify(o.rollout)} must be 1-64 characters of A-Z a-z 0-9 _ . -`);
    const reports = [...this.reports.values()];
    const unknown = o.agents?.filter((a) => !this.reports.has(a)) ?? [];
    if (unknown.length > 0 && reports.length > 0) {
      throw new RolloutError(`no agent of fleet ${this.fleet} named ${unknown.join(', ')} has reported (known: ${reports.map((r) => r.agent).join(', ')})`);
    }
    const replaces = o.replaces ?? Object.fromEntries(reports.filter((r) => o.agents === null || o.agents.includes(r.agent)).map((r) => [r.agent, r.running.id]));
    const assign: Record<string, string> = o.agents === null ? { '*': o.offer.id } : Object.fromEntries(o.agents.map((a) => [a, o.offer.id]));
    const plan: RolloutPlan = { format: ROLLOUT_FORMAT, rollout: o.rollout, issued_ms: Date.now(), offer: o.offer, assign, switch_at_tick: o.switchAtTick, replaces, shadow: o.shadow ?? false, spread_ms: o.spreadMs ?? 0, stage: o.stage ?? null };
    await this.publishPlan(plan);
    return plan;
  }

  /** offer() then assign(): the bundle to `agents` (all when null) in one plan. */
  async start(o: { bundleDir: string; rollout: string; agents: string[] | null; switchAtTick: number | null; signingKeyPem?: string; chunkBytes?: number; waitMs?: number; shadow?: boolean; spreadMs?: number }): Promise<{ plan: RolloutPlan; chunks: number; bytes: number; publishMs: number; agents: number }> {
    if (!ID_PATTERN.test(o.rollout)) throw new RolloutError(`rollout name ${JSON.stringify(o.rollout)} must be 1-64 characters of A-Z a-z 0-9 _ . -`);
    await this.read(o.waitMs);
    const offered = await this.offer(o);
    const plan = await this.assign({ rollout: o.rollout, offer: offered.offer, agents: o.agents, switchAtTick: o.switchAtTick, shadow: o.shadow, spreadMs: o.spreadMs });
    return { plan, chunks: offered.offer.chunks.length, bytes: offered.bytes, publishMs: offered.publishMs, agents: this.reports.size };
  }

  /** Assigns every agent the bundle the current plan replaced (they hold it: no download). */
  async rollback(rollout: string, waitMs?: number): Promise<RolloutPlan> {
    if (!ID_PATTERN.test(rollout)) throw new RolloutError(`rollout name ${JSON.stringify(rollout)} must be 1-64 characters of A-Z a-z 0-9 _ . -`);
    const { plan } = await this.read(waitMs);
    if (!plan) throw new RolloutError(`fleet ${this.fleet} has no rollout plan to roll back`);
    return this.assignBack(rollout, plan);
  }

  /** A plan assigning back what `plan` replaced. */
  async assignBack(rollout: string, plan: RolloutPlan): Promise<RolloutPlan> {
    const current: RolloutPlan = plan;
    if (Object.keys(current.replaces).length === 0) throw new RolloutError(`plan ${current.rollout} recorded no bundle it replaced (no agent had reported when it started): start a rollout of the old bundle instead`);
    const back: RolloutPlan = { format: ROLLOUT_FORMAT, rollout, issued_ms: Date.now(), offer: null, assign: { ...current.replaces }, switch_at_tick: null, replaces: {}, shadow: false, spread_ms: 0, stage: null };
    await this.publishPlan(back);
    return back;
  }

  async publishPlan(plan: RolloutPlan): Promise<void> {
    await this.publishOrFail(fleetTopic(this.fleet, 'rollout'), Buffer.from(JSON.stringify(plan)), 'the plan');
  }

  /** A retained, acknowledged publish; a connection lost meanwhile is an error naming what was sent. */
  private async publishOrFail(topic: string, payload: Buffer, what: string): Promise<void> {
    let onClose: () => void = () => {};
    const closed = new Promise<never>((_, reject) => {
      onClose = () => reject(new RolloutError(`the broker closed the connection while receiving ${what}`));
      this.client.once('close', onClose);
    });
    try {
      await Promise.race([this.client.publishAsync(topic, payload, { qos: 1, retain: true }), closed]);
    } finally {
      this.client.off('close', onClose);
    }
  }
}
