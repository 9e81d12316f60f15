// The agent's side of an over-the-air rollout (docs/rollout.md). On its own MQTT connection, so
// that a download never queues behind (or in front of) the team's messages, it follows the
// fleet's retained plan, fetches the chunks of an offered bundle a few at a time (each checked
// against its sha256 and kept on disk, so a restart or a broker outage resumes the download),
// verifies the bundle and its signature, and hands it to the agent to load and switch to at the
// plan's tick. It reports every step, retained, on fm/<fleet>/a/<agent>/rollout. Whatever a
// rollout sends that is wrong is refused, counted by reason and reported; the agent keeps acting
// on the bundle it runs.

import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { agentTopic, bundleChunkTopic, fleetTopic, parseTopic } from '@fleetmind/wire';
import { assignedTo, parseRolloutJson, RolloutError, rolloutPlanSchema, type AgentRolloutReport, type RolloutPlan, type RolloutRefusal } from './rollout-plan.js';
import { RolloutRefused, type BundleStore, type Download } from './bundle-store.js';

/** What the updater needs of the agent: what runs, and a way to stage the next bundle. */
export interface PolicySlot {
  runningBundle(): { id: string; name: string; version: string; layout: string };
  /**
   * Loads the bundle in `dir` and checks that it can replace the running one; resolves once it is
   * staged (it then switches at `atTick`, or at the next tick when null, and calls onSwitch).
   * Rejects with RolloutRefused when it cannot run here.
   */
  stageBundle(dir: string, id: string, atTick: number | null, onSwitch: (tick: number) => void, mode?: 'switch' | 'shadow'): Promise<void>;
  /** forgets a staged (or shadowing) bundle that a newer plan no longer wants */
  dropStaged(): Promise<void>;
  /** shadow mode: the candidate and its agreement with the live policy so far */
  shadowStats(): { id: string; decisions: number; agreement: number; mean_abs_diff: number } | null;
}

/** while shadowing, the report is sent this often (its agreement changes every tick) */
const SHADOW_REPORT_MS = 500;

export interface UpdaterOptions {
  brokerUrl: string;
  fleet: string;
  agentId: string;
  username?: string;
  password?: string;
  tlsCa?: string | Buffer;
  tlsCert?: string | Buffer;
  tlsKey?: string | Buffer;
  store: BundleStore;
  trustedKeyPem?: string;
  slot: PolicySlot;
  logger: Logger;
  /** chunks asked for at once: enough to keep the link busy, few enough not to flood it */
  window?: number;
}

const DEFAULT_WINDOW = 4;

type BundleRef = AgentRolloutReport['running'];

export class BundleUpdater {
  private client: MqttClient | null = null;
  private plan: RolloutPlan | null = null;
  private download: Download | null = null;
  /** chunk topics subscribed to now */
  private readonly asked = new Set<string>();
  private state: AgentRolloutReport['state'] = 'idle';
  private staged: BundleRef | null = null;
  private refused: AgentRolloutReport['refused'] = null;
  private readonly refusals: Partial<Record<RolloutRefusal, number>> = {};
  private switchedAtTick: number | null = null;
  private closed = false;
  private shadowTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: UpdaterOptions) {}

  /** refusals so far, by reason */
  get counts(): Partial<Record<RolloutRefusal, number>> { return { ...this.refusals }; }

  start(): void {
    const o = this.o;
    const client = mqtt.connect(o.brokerUrl, {
      clientId: `${o.agentId}:${o.fleet}:${process.pid}:rollout`,
      username: o.username, password: o.password, ca: o.tlsCa, cert: o.tlsCert, key: o.tlsKey,
      clean: true, reconnectPeriod: 1_000, connectTimeout: 5_000, resubscribe: false,
    });
    this.client = client;
    client.on('connect', () => {
      // chunk subscriptions are renewed too: a download resumes where the outage stopped it
      client.subscribe([fleetTopic(o.fleet, 'rollout'), ...this.asked], { qos: 1 });
      this.report();
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => o.logger.warn({ err: err.message }, 'rollout: broker connection'));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopShadowReports();
    await this.client?.endAsync();
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (this.closed) return;
    const t = parseTopic(topic);
    if (t?.kind === 'bundle_chunk') return this.onChunk(t.bundleId, t.index, payload);
    if (payload.length === 0) return; // a cleared retained plan: nothing to do
    let plan: RolloutPlan;
    try {
      plan = parseRolloutJson(rolloutPlanSchema, payload, `the rollout plan on ${topic}`);
    } catch (err) {
      if (!(err instanceof RolloutError)) throw err;
      return this.refuse('malformed_plan', err.message);
    }
    this.guarded(this.follow(plan));
  }

  /**
   * Whatever goes wrong underneath a rollout (a full disk, a store it cannot write) ends that
   * rollout, counted and reported; the agent goes on with the bundle it runs.
   */
  private guarded(work: Promise<void>): void {
    work.catch((err: Error) => {
      this.cancelDownload();
      this.refuse('store_failed', err.message);
    });
  }

  private async follow(plan: RolloutPlan): Promise<void> {
    const { store, agentId } = this.o;
    // the same retained plan, read again after a restart or a reconnection: done already
    if (plan.rollout === store.lastRollout || plan.rollout === this.plan?.rollout) return;
    this.cancelDownload();
    this.stopShadowReports();
    this.plan = plan;
    this.refused = null;
    const target = assignedTo(plan, agentId);
    const running = this.o.slot.runningBundle();
    if (target === null || target === running.id) {
      await this.o.slot.dropStaged();
      this.staged = null;
      store.markRollout(plan.rollout);
      this.state = 'idle';
      return this.report();
    }
    if (store.has(target)) return this.stage(target, store.dir(target));
    if (plan.offer?.id !== target) {
      store.markRollout(plan.rollout);
      return this.refuse('unknown_bundle', `plan ${plan.rollout} assigns bundle ${target.slice(0, 12)}, which this agent does not hold and the plan does not offer`);
    }
    if (plan.offer.layout !== running.layout) {
      store.markRollout(plan.rollout);
      return this.refuse('incompatible', `bundle ${plan.offer.name} ${plan.offer.version}: its message layout (${plan.offer.layout}) differs from the team's (${running.layout})`);
    }
    try {
      this.download = store.download(plan.offer);
    } catch (err) {
      if (!(err instanceof RolloutRefused)) throw err;
      store.markRollout(plan.rollout);
      return this.refuse(err.reason, err.message);
    }
    this.state = 'downloading';
    this.report();
    // a fleet that all downloads at once loads the broker (and, simulated in one process, the CPU) at once
    const download = this.download;
    if (plan.spread_ms > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * plan.spread_ms));
    if (this.download === download && !this.closed) this.askForChunks();
  }

  /** Keeps `window` missing chunks asked for; finishes the bundle when none is missing. */
  private askForChunks(): void {
    const download = this.download;
    if (!download || !this.client) return;
    if (download.complete) {
      this.download = null;
      return this.guarded(this.finish(download));
    }
    const wanted = download.missing().slice(0, this.o.window ?? DEFAULT_WINDOW).map((k) => bundleChunkTopic(this.o.fleet, download.offer.id, k));
    const fresh = wanted.filter((topic) => !this.asked.has(topic));
    for (const topic of fresh) this.asked.add(topic);
    if (fresh.length > 0) this.client.subscribe(fresh, { qos: 1 });
  }

  private onChunk(bundleId: string, index: number, bytes: Buffer): void {
    const download = this.download;
    const topic = bundleChunkTopic(this.o.fleet, bundleId, index);
    if (this.asked.delete(topic)) this.client?.unsubscribe(topic);
    if (!download || download.offer.id !== bundleId) return; // a chunk of a download given up: nothing to keep
    try {
      download.put(index, bytes);
    } catch (err) {
      if (!(err instanceof RolloutRefused)) {
        this.cancelDownload();
        return this.refuse('store_failed', (err as Error).message);
      }
      this.count(err.reason, err.message); // asked for again below: the retained copy may be good
    }
    this.report();
    this.askForChunks();
  }

  private async finish(download: Download): Promise<void> {
    const plan = this.plan!;
    let dir: string;
    try {
      dir = await download.finish(this.o.trustedKeyPem);
    } catch (err) {
      if (!(err instanceof RolloutRefused)) throw err;
      this.o.store.markRollout(plan.rollout);
      return this.refuse(err.reason, err.message);
    }
    await this.stage(download.offer.id, dir);
  }

  private async stage(id: string, dir: string): Promise<void> {
    const plan = this.plan!;
    const { store } = this.o;
    let switched = false;
    try {
      if (plan.shadow) {
        await this.o.slot.stageBundle(dir, id, null, () => {}, 'shadow');
        this.staged = null;
        this.state = 'shadowing';
        this.shadowTimer = setInterval(() => this.report(), SHADOW_REPORT_MS);
        return this.report();
      }
      await this.o.slot.stageBundle(dir, id, plan.switch_at_tick, (tick) => {
        switched = true;
        store.setRunning(id, plan.rollout);
        this.staged = null;
        this.switchedAtTick = tick;
        this.state = 'switched';
        this.o.logger.info({ rollout: plan.rollout, bundle: this.o.slot.runningBundle().version, tick }, 'rollout: switched bundles');
        this.report();
      });
    } catch (err) {
      store.markRollout(plan.rollout);
      if (err instanceof RolloutRefused) return this.refuse(err.reason, err.message);
      return this.refuse('load_failed', `bundle ${id.slice(0, 12)}: ${(err as Error).message}`);
    }
    if (!switched) {
      this.staged = { id, ...store.describe(id) };
      this.state = 'staged';
      this.report();
    }
  }

  private stopShadowReports(): void {
    if (this.shadowTimer) clearInterval(this.shadowTimer);
    this.shadowTimer = null;
  }

  private cancelDownload(): void {
    this.download = null;
    if (this.asked.size > 0) this.client?.unsubscribe([...this.asked]);
    this.asked.clear();
  }

  private count(reason: RolloutRefusal, detail: string): void {
    this.refusals[reason] = (this.refusals[reason] ?? 0) + 1;
    this.refused = { reason, detail };
    this.o.logger.warn({ reason, detail }, 'rollout: refused');
  }

  private refuse(reason: RolloutRefusal, detail: string): void {
    this.count(reason, detail);
    this.state = 'refused';
    this.report();
  }

  private shadowReport(): AgentRolloutReport['shadow'] {
    const stats = this.o.slot.shadowStats();
    return stats && { ...stats, ...this.o.store.describe(stats.id) };
  }

  /** The agent's rollout report, retained, so `fleetmind rollout status` sees agents that are offline too. */
  report(): void {
    if (!this.client?.connected) return;
    const running = this.o.slot.runningBundle();
    const report: AgentRolloutReport = {
      agent: this.o.agentId,
      rollout: this.plan?.rollout ?? this.o.store.lastRollout,
      running: { id: running.id, name: running.name, version: running.version },
      previous: this.o.store.previous ? { id: this.o.store.previous, ...this.o.store.describe(this.o.store.previous) } : null,
      staged: this.staged,
      state: this.state,
      download: this.download ? { id: this.download.offer.id, have: this.download.received, of: this.download.offer.chunks.length } : null,
      refused: this.refused,
      refusals: { ...this.refusals },
      switched_at_tick: this.switchedAtTick,
      shadow: this.shadowReport(),
      layout: running.layout,
      sent_ms: Date.now(),
    };
    this.client.publish(agentTopic(this.o.fleet, this.o.agentId, 'rollout'), JSON.stringify(report), { qos: 1, retain: true });
  }
}
