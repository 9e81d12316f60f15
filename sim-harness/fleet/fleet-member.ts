// One runtime agent of a simulated fleet, however it runs: in this process, in a worker thread
// of its own, or as a child process running the runtime's own command (then a crash is a real
// SIGKILL and a freeze a real SIGSTOP). The world server talks to it through its adapter — in-process calls, or JSON lines
// on the child's stdin/stdout — and it talks to its peers over MQTT through its own link proxy.

import { spawn, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LoadedBundle } from '@fleetmind/models';
import { pino } from 'pino';
import { slowedPolicy } from '../faults/slowed-policy.js';
import { createAgent, InProcessAdapter, onnxPolicy, type ActionOut, type AgentSettingsInput, type AgentSnapshot, type FleetAgent, type ObservationIn, type PolicyFactory, type TickRecord, type TransportFactory } from '@fleetmind/runtime';

export type FleetMode = 'inproc' | 'threads' | 'procs';

export interface MemberOptions {
  id: string;
  bundle: LoadedBundle;
  fleet: string;
  /** the member's link proxy */
  brokerUrl: string;
  settings: AgentSettingsInput;
  /** when the broker has auth on */
  credentials?: { username: string; password: string };
  onAction: (id: string, action: ActionOut) => void;
  /** in-process agents also report who they heard each round */
  onTick?: (id: string, record: TickRecord) => void;
  /** over-the-air rollouts: the agent's bundle store (sim --rollout) */
  bundleStore?: string;
  /**
   * in-process agents only: what the process's agents share — one MQTT connection
   * (sharedConnections) and/or their graph calls of a turn in one batch (batchedInference; then
   * slow_inference cannot act on one agent's calls)
   */
  shared?: { transport?: TransportFactory; policy?: PolicyFactory };
}

export interface FleetMember {
  readonly id: string;
  readonly running: boolean;
  start(): Promise<void>;
  /** hands the agent its observation (dropped when it is not running) */
  observe(observation: ObservationIn): void;
  /** the agent is not in the episode now: it tells its peers not to wait (its next observation ends it) */
  standby(): void;
  /** abrupt: no goodbye, the broker publishes its last will */
  crash(): Promise<void>;
  freeze(): void;
  thaw(): void;
  /** slow every ONNX Runtime call by this many ms (0: normal) */
  slowInference(ms: number): void;
  /** the agent's own counters over all its lives (in-process agents; null for child processes) */
  counters(): AgentSnapshot | null;
  stop(): Promise<void>;
}

export function createMember(mode: FleetMode, o: MemberOptions): FleetMember {
  if (mode === 'inproc') return new InProcessMember(o);
  return mode === 'threads' ? new ThreadMember(o) : new ProcessMember(o);
}

class InProcessMember implements FleetMember {
  private agent: FleetAgent | null = null;
  /** counters of earlier lives (before a crash) */
  private past: AgentSnapshot[] = [];
  private adapter: InProcessAdapter | null = null;
  private frozen = false;
  private slowMs = 0;

  constructor(private readonly o: MemberOptions) {}

  get id(): string { return this.o.id; }
  get running(): boolean { return this.agent !== null; }

  async start(): Promise<void> {
    this.adapter = new InProcessAdapter((a) => this.o.onAction(this.o.id, a));
    this.agent = await createAgent({
      bundle: this.o.bundle, agentId: this.o.id, broker: this.o.brokerUrl, fleet: this.o.fleet,
      // slow_inference acts at the policy seam, around the ONNX Runtime session
      policy: this.o.shared?.policy ?? ((role, messageSize) => slowedPolicy(onnxPolicy(role, messageSize), () => this.slowMs)),
      ...(this.o.shared?.transport ? { transport: this.o.shared.transport } : {}),
      adapter: this.adapter, logger: pino({ level: 'silent' }), ...this.o.settings, ...this.o.credentials, bundleStore: this.o.bundleStore,
      onTick: this.o.onTick && ((r) => this.o.onTick!(this.o.id, r)),
    });
  }

  observe(observation: ObservationIn): void {
    if (this.agent && !this.frozen) this.adapter!.observe(observation);
  }

  standby(): void {
    if (this.agent && !this.frozen) this.adapter!.standby();
  }

  async crash(): Promise<void> {
    const agent = this.agent;
    this.agent = null;
    if (agent) this.past.push(agent.snapshot());
    await agent?.kill();
  }

  counters(): AgentSnapshot | null {
    return [...this.past, ...(this.agent ? [this.agent.snapshot()] : [])].reduce(addSnapshots);
  }

  freeze(): void { this.frozen = true; }
  thaw(): void { this.frozen = false; }
  slowInference(ms: number): void { this.slowMs = ms; }

  async stop(): Promise<void> {
    const agent = this.agent;
    this.agent = null;
    if (agent) this.past.push(agent.snapshot());
    await agent?.stop();
  }
}

/** Sums two snapshots' counters, key by key. */
export function addSnapshots<T>(a: T, b: T): T {
  if (typeof a === 'number') return (a + (b as number)) as T;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b as Record<string, unknown>)) out[k] = k in out ? addSnapshots(out[k], v) : v;
  return out as T;
}

const AGENT_WORKER = new URL('./agent-worker.js', import.meta.url);

class ThreadMember implements FleetMember {
  private worker: Worker | null = null;

  constructor(private readonly o: MemberOptions) {}

  get id(): string { return this.o.id; }
  get running(): boolean { return this.worker !== null; }

  async start(): Promise<void> {
    const worker = new Worker(AGENT_WORKER, { workerData: { bundleDir: this.o.bundle.dir, id: this.o.id, brokerUrl: this.o.brokerUrl, fleet: this.o.fleet, settings: this.o.settings, credentials: this.o.credentials, bundleStore: this.o.bundleStore } });
    this.worker = worker;
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { type: string; action?: ActionOut }) => {
        if (m.type === 'started') resolve();
        else if (m.type === 'action') this.o.onAction(this.o.id, m.action!);
      });
      worker.once('error', (err) => reject(new Error(`agent ${this.o.id}: ${err.message}`)));
      worker.once('exit', (code) => reject(new Error(`agent ${this.o.id}'s thread exited with ${code} while starting`)));
    });
  }

  observe(observation: ObservationIn): void {
    this.worker?.postMessage({ type: 'observe', observation });
  }

  standby(): void {
    this.worker?.postMessage({ type: 'standby' });
  }

  /** the thread is terminated mid-flight: its socket closes without a goodbye */
  async crash(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  freeze(): void { this.worker?.postMessage({ type: 'freeze', frozen: true }); }
  thaw(): void { this.worker?.postMessage({ type: 'freeze', frozen: false }); }
  slowInference(ms: number): void {
    // 0 is "not slowed", asked of every member every tick
    if (ms > 0) throw new Error('slow_inference needs --mode inproc');
  }
  counters(): AgentSnapshot | null { return null; }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    const stopped = new Promise<void>((resolve) => worker.on('message', (m: { type: string }) => { if (m.type === 'stopped') resolve(); }));
    worker.postMessage({ type: 'stop' });
    // at most 3 s; the timer is cleared, or it would hold the process that long after the run
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([stopped, new Promise((r) => { giveUp = setTimeout(r, 3_000); })]);
    clearTimeout(giveUp);
    await worker.terminate();
  }
}

const AGENT_BIN = fileURLToPath(import.meta.resolve('@fleetmind/runtime').replace(/index\.js$/, 'cli/bin.js'));

class ProcessMember implements FleetMember {
  private child: ChildProcess | null = null;

  constructor(private readonly o: MemberOptions) {}

  get id(): string { return this.o.id; }
  get running(): boolean { return this.child !== null; }

  async start(): Promise<void> {
    const s = this.o.settings;
    const args = ['--bundle', this.o.bundle.dir, '--agent', this.o.id, '--broker', this.o.brokerUrl, '--fleet', this.o.fleet, '--adapter', 'stdio', '--log-level', 'info'];
    if (s.roundDeadlineMs) args.push('--round-deadline-ms', String(s.roundDeadlineMs));
    if (s.tickBudgetMs) args.push('--tick-budget-ms', String(s.tickBudgetMs));
    if (s.maxObservationAgeMs) args.push('--max-observation-age-ms', String(s.maxObservationAgeMs));
    if (s.heartbeatMs) args.push('--heartbeat-ms', String(s.heartbeatMs));
    if (s.peerTimeoutMs) args.push('--peer-timeout-ms', String(s.peerTimeoutMs));
    if (s.lostNotices) args.push('--lost-notices');
    if (s.peers) args.push('--peers', s.peers.join(','));
    if (s.record) args.push('--record', s.record.dir);
    if (s.statusMs !== undefined) args.push('--status-ms', String(s.statusMs));
    if (this.o.bundleStore) args.push('--bundle-store', this.o.bundleStore);
    if (this.o.credentials) args.push('--username', this.o.credentials.username);
    // the password through the environment, where ps does not show it
    const env = this.o.credentials ? { ...process.env, FLEETMIND_PASSWORD: this.o.credentials.password } : process.env;
    // its own process group: a Ctrl-C at the terminal reaches the simulator, which stops its
    // agents itself (a child that took the SIGINT too would race it, or outlive it)
    const child = spawn(AGENT_BIN, args, { stdio: ['pipe', 'pipe', 'pipe'], env, detached: true });
    this.child = child;
    child.stdin!.on('error', () => {}); // a killed child's pipe
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.o.onAction(this.o.id, JSON.parse(line) as ActionOut);
      } catch { /* not an action line */ }
    });
    // the agent logs JSON to stderr; its "agent started" line says it is up
    const started = new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stderr! }).on('line', (line) => {
        if (line.includes('"agent started"')) resolve();
        if (line.includes('"level":50') || line.includes('error:')) reject(new Error(`agent ${this.o.id}: ${line}`));
      });
      child.once('exit', (code) => reject(new Error(`agent ${this.o.id} exited with ${code} while starting`)));
    });
    await started;
  }

  observe(o: ObservationIn): void {
    const extra = `${o.sentUs !== undefined ? `,"sent_us":${o.sentUs}` : ''}${o.episode ? `,"episode":${o.episode}` : ''}`;
    this.child?.stdin!.write(`{"tick":${o.tick},"values":${JSON.stringify(Array.from(o.values))}${extra}}\n`);
  }

  standby(): void {
    this.child?.stdin!.write('{"standby":true}\n');
  }

  async crash(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  counters(): AgentSnapshot | null { return null; }

  freeze(): void { this.child?.kill('SIGSTOP'); }
  thaw(): void { this.child?.kill('SIGCONT'); }
  slowInference(ms: number): void {
    if (ms > 0) throw new Error('slow_inference needs --mode inproc (a child process cannot be slowed from outside without freezing it)');
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    await exited;
  }
}
