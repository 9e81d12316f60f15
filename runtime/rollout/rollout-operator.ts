// The operator's side of an over-the-air rollout (docs/rollout.md): read what the fleet runs,
// publish a bundle and a plan, roll back. Every publish is retained and acknowledged (QoS 1), so
// an agent that is offline now finds the plan and the chunks when it returns.

import { mkdtempSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { signBundle } from '@fleetmind/models';
import { bundleChunkTopic, fleetTopic, ID_PATTERN, parseTopic } from '@fleetmind/wire';
import { packBundle, DEFAULT_CHUNK_BYTES } from './bundle-offer.js';
import { agentRolloutReportSchema, parseRolloutJson, ROLLOUT_FORMAT, RolloutError, rolloutPlanSchema, type AgentRolloutReport, type RolloutPlan } from './rollout-plan.js';

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
  private constructor(private readonly client: MqttClient, readonly fleet: string) {}

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
    return new RolloutOperator(client, o.fleet);
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }

  /** The agents' retained reports (and the plan), read for `waitMs` after subscribing. */
  async read(waitMs = 1_000): Promise<{ plan: RolloutPlan | null; reports: AgentRolloutReport[]; unreadable: string[] }> {
    const reports = new Map<string, AgentRolloutReport>();
    const unreadable: string[] = [];
    let plan: RolloutPlan | null = null;
    const planTopic = fleetTopic(this.fleet, 'rollout');
    const onMessage = (topic: string, payload: Buffer) => {
      if (payload.length === 0) return;
      try {
        if (topic === planTopic) plan = parseRolloutJson(rolloutPlanSchema, payload, `the plan on ${topic}`);
        else {
          const t = parseTopic(topic);
          if (t?.kind !== 'agent' || t.channel !== 'rollout') return;
          const report = parseRolloutJson(agentRolloutReportSchema, payload, `the report on ${topic}`);
          if (report.agent !== t.agent) throw new RolloutError(`the report on ${topic} names agent ${report.agent}`);
          reports.set(report.agent, report);
        }
      } catch (err) {
        if (!(err instanceof RolloutError)) throw err;
        unreadable.push(err.message);
      }
    };
    this.client.on('message', onMessage);
    const filters = [planTopic, `fm/${this.fleet}/a/+/rollout`];
    await this.client.subscribeAsync(filters, { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    await this.client.unsubscribeAsync(filters);
    this.client.off('message', onMessage);
    return { plan, reports: [...reports.values()].sort((a, b) => a.agent.localeCompare(b.agent)), unreadable };
  }

  /**
   * Publishes a bundle (signed with `signingKeyPem` on the way when given) and a plan that
   * assigns it to `agents` (all when null). Refused before anything is published when a reporting
   * agent runs a bundle whose message layout differs: the team could not mix them.
   */
  async start(o: { bundleDir: string; rollout: string; agents: string[] | null; switchAtTick: number | null; signingKeyPem?: string; chunkBytes?: number; waitMs?: number }): Promise<{ plan: RolloutPlan; chunks: number; bytes: number; publishMs: number; agents: number }> {
    if (!ID_PATTERN.test(o.rollout)) throw new RolloutError(`rollout name ${JSON.stringify(o.rollout)} must be 1-64 characters of A-Z a-z 0-9 _ . -`);
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
      const { reports } = await this.read(o.waitMs);
      const mismatched = reports.filter((r) => r.layout !== packed.offer.layout);
      if (mismatched.length > 0) {
        throw new RolloutError(`refused before anything was published: bundle ${packed.offer.name} ${packed.offer.version} has message layout "${packed.offer.layout}", but ${mismatched.map((r) => `${r.agent} runs "${r.layout}"`).join(', ')}; agents of one team must read each other's messages`);
      }
      const unknown = o.agents?.filter((a) => !reports.some((r) => r.agent === a)) ?? [];
      if (o.agents && unknown.length > 0 && reports.length > 0) {
        throw new RolloutError(`no agent of fleet ${this.fleet} named ${unknown.join(', ')} has reported (known: ${reports.map((r) => r.agent).join(', ')})`);
      }
      const replaces: Record<string, string> = {};
      for (const r of reports) if (o.agents === null || o.agents.includes(r.agent)) replaces[r.agent] = r.running.id;
      const assign: Record<string, string> = o.agents === null ? { '*': packed.offer.id } : Object.fromEntries(o.agents.map((a) => [a, packed.offer.id]));
      const plan: RolloutPlan = { format: ROLLOUT_FORMAT, rollout: o.rollout, issued_ms: Date.now(), offer: packed.offer, assign, switch_at_tick: o.switchAtTick, replaces };
      const started = performance.now();
      // the chunks first: a plan must never name bytes that are not there yet
      for (let k = 0; k < packed.offer.chunks.length; k++) {
        await this.publishOrFail(bundleChunkTopic(this.fleet, packed.offer.id, k), Buffer.from(packed.chunk(k)), `chunk ${k} (${packed.chunk(k).length} bytes; a broker closes the connection on a packet over its limit: lower --chunk-bytes)`);
      }
      await this.publishPlan(plan);
      return { plan, chunks: packed.offer.chunks.length, bytes: packed.totalBytes, publishMs: performance.now() - started, agents: reports.length };
    } finally {
      if (signed) rmSync(signed, { recursive: true, force: true });
    }
  }

  /** Assigns every agent the bundle the current plan replaced (they hold it: no download). */
  async rollback(rollout: string, waitMs?: number): Promise<RolloutPlan> {
    if (!ID_PATTERN.test(rollout)) throw new RolloutError(`rollout name ${JSON.stringify(rollout)} must be 1-64 characters of A-Z a-z 0-9 _ . -`);
    const { plan } = await this.read(waitMs);
    if (!plan) throw new RolloutError(`fleet ${this.fleet} has no rollout plan to roll back`);
    const current: RolloutPlan = plan;
    if (Object.keys(current.replaces).length === 0) throw new RolloutError(`plan ${current.rollout} recorded no bundle it replaced (no agent had reported when it started): start a rollout of the old bundle instead`);
    const back: RolloutPlan = { format: ROLLOUT_FORMAT, rollout, issued_ms: Date.now(), offer: null, assign: { ...current.replaces }, switch_at_tick: null, replaces: {} };
    await this.publishPlan(back);
    return back;
  }

  private async publishPlan(plan: RolloutPlan): Promise<void> {
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
