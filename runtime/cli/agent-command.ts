// `fleetmind agent` — one robot's runtime. The same command is the runtime package's own bin
// (`fleetmind-agent`), so a device that installs only @fleetmind/runtime runs exactly this.

import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { FleetAgent } from '../agent/agent.js';
import { AgentConfigError } from '../agent/agent-options.js';
import type { Shield } from '../agent/shield.js';

interface AgentCliOptions {
  bundle: string;
  agent: string;
  broker: string;
  fleet: string;
  username?: string;
  password?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  trustKey?: string;
  bundleStore?: string;
  adapter: 'mqtt' | 'stdio';
  hz?: number;
  metricsPort?: number;
  roundDeadlineMs: number;
  tickBudgetMs?: number;
  heartbeatMs: number;
  peerTimeoutMs: number;
  shieldMaxSpeed?: number;
  actionRateLimit?: number;
  shieldMinDistance?: number;
  maxObservationAgeMs: number;
  memoryMaxAgeMs: number;
  observationQueue: 'latest' | 'fifo';
  peerChecks: 'off' | 'quarantine';
  logLevel: string;
  lostNotices?: boolean;
  peers?: string[];
  record?: string;
  recordFileMb: number;
  recordBudgetMb: number;
  recordFileMinutes: number;
  statusMs: number;
}

const positive = (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
};
const nonNegativeInt = (value: string): number => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a whole number ≥ 0, got "${value}"`);
  return Number(value);
};
const port = (value: string): number => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError(`expected a port number 0-65535, got "${value}"`);
  return n;
};
const brokerUrl = (value: string): string => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`expected a broker URL like mqtt://127.0.0.1:1883, got "${value}"`);
  }
  if (!['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:'].includes(url.protocol)) throw new InvalidArgumentError(`"${value}": the protocol must be mqtt, mqtts, ws or wss`);
  return value;
};
const readFile = (what: string, path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new AgentConfigError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
};

export function agentCommand(name = 'agent'): Command {
  return new Command(name)
    .description('Run one agent of a policy bundle: ONNX Runtime inference, peer messages over MQTT with deadlines, tiered fallback. Runs until SIGTERM/SIGINT, then announces itself offline.')
    .requiredOption('--bundle <dir>', 'policy bundle folder (verified before it runs)')
    .requiredOption('--agent <id>', 'this agent\'s id in the bundle (e.g. agent_0)')
    .requiredOption('--broker <url>', 'MQTT broker, e.g. mqtt://127.0.0.1:1883 or mqtts://host:8883', brokerUrl)
    .option('--fleet <name>', 'fleet name: the topic namespace fm/<fleet>/', 'default')
    .option('--username <user>', 'broker username')
    .option('--password <password>', 'broker password (or set FLEETMIND_PASSWORD, which ps does not show)')
    .option('--tls-ca <file>', 'PEM of the CA that signed the broker certificate (mqtts://)')
    .option('--tls-cert <file>', 'mutual TLS: this robot\'s certificate (PEM; see `fleetmind broker cert issue`), instead of a password')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option('--trust-key <file>', 'accept the bundle only if signed by this Ed25519 public key (rollouts too)')
    .option('--bundle-store <dir>', 'over-the-air rollouts: keep bundles here and follow the fleet\'s rollout plan (`fleetmind rollout`); the agent restarts on the bundle it last switched to')
    .addOption(new Option('--adapter <kind>', 'where observations come from and actions go: mqtt (fm/<fleet>/a/<agent>/obs → …/act) or stdio (JSON lines)').choices(['mqtt', 'stdio']).default('mqtt'))
    .option('--hz <rate>', 'act at this rate on the latest observation (default: lockstep, act when an observation arrives)', positive)
    .option('--metrics-port <port>', 'serve Prometheus metrics on 127.0.0.1:<port>/metrics', port)
    .option('--round-deadline-ms <ms>', 'how long a communication round waits for live peers', positive, 20)
    .option('--tick-budget-ms <ms>', 'a decision (its communication rounds included) that takes longer than this gets the safe action instead (default: the period with --hz, else 250)', positive)
    .option('--peers <ids>', 'comma-separated peers whose messages fill the inbox, in slot order (default: the agent\'s teammates in the bundle; a k-nearest policy in a large fleet takes its k nearest)', (v: string) => v.split(',').map((p) => p.trim()).filter(Boolean))
    .option('--heartbeat-ms <ms>', 'heartbeat period', positive, 200)
    .option('--peer-timeout-ms <ms>', 'a peer silent this long counts as dead and is not waited for', positive, 1000)
    .option('--max-observation-age-ms <ms>', 'an observation whose sent_us is older than this, or further than this in the future (a clock ahead), gets the safe action: clocks must agree within it (NTP/PTP)', positive, 1000)
    .option('--memory-max-age-ms <ms>', 'a recurrent policy forgets its state when this long has passed since its last decision (it also forgets at a new episode and after a skipped tick)', positive, 1000)
    .addOption(new Option('--observation-queue <mode>', 'lockstep: observations arriving while a tick runs — latest (robots: the newest replaces a waiting one, counted as replaced) or fifo (simulators faster than the agent: each waits its turn, up to 64)').choices(['latest', 'fifo']).default('latest'))
    .addOption(new Option('--peer-checks <mode>', 'quarantine: check each peer\'s messages against the policy\'s own arithmetic, leave out a message that fails and quarantine a peer that fails twice in a row (a defence against a lying peer; teams where every agent hears every other, two or more rounds); off: trust every well-formed message').choices(['off', 'quarantine']).default('off'))
    .option('--action-rate-limit <d>', 'continuous actions: the most each component may change from one tick to the next (every vector is clamped into the bundle\'s box anyway)', positive)
    .option('--shield-max-speed <v>', 'MPE safety shield: no acceleration along the velocity above this speed', positive)
    .option('--shield-min-distance <d>', 'MPE safety shield: no move toward an agent nearer than this', positive)
    .option('--record <dir>', 'flight recorder: write every tick (observation, inboxes, action, tier, timings) and the counters as MCAP files in <dir>; replay with `fleetmind replay`')
    .option('--record-file-mb <mb>', 'start a new recording file past this size', positive, 64)
    .option('--record-file-minutes <min>', 'start a new recording file after this long', positive, 60)
    .option('--record-budget-mb <mb>', 'delete this agent\'s oldest recordings while they hold more than this', positive, 1024)
    .option('--status-ms <ms>', 'publish a status for dashboards (fm/<fleet>/a/<agent>/status) this often; 0: never', nonNegativeInt, 1000)
    // a simulator's switch (fleetmind sim --mode procs), not an operator's: hidden from --help
    .addOption(new Option('--lost-notices', 'simulation only: trust the simulator\'s lost-message notices (deterministic lockstep rounds)').hideHelp())
    .addOption(new Option('--log-level <level>', 'pino log level (logs go to stderr as JSON)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('info'))
    .addHelpText('after', `
Examples:
  $ fleetmind agent --bundle models/zoo/spread-commnet --agent agent_0 --broker mqtt://127.0.0.1:1883
  $ fleetmind agent --bundle models/zoo/spread-mlp --agent agent_0 --broker mqtt://127.0.0.1:1883 --record /var/log/fleetmind
  $ echo '{"tick":1,"values":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}' | \\
      fleetmind agent --bundle models/zoo/spread-mlp --agent agent_0 --broker mqtt://127.0.0.1:1883 --adapter stdio`)
    .action(async (opts: AgentCliOptions) => { await runAgentCommand(opts); });
}

async function runAgentCommand(opts: AgentCliOptions): Promise<void> {
  // the agent's parts load only when it runs: `--help` and refused arguments stay quick
  const [{ pino }, { checkBundleFiles }, { createAgent }, { serveMetrics }, { mpeShield }, { MqttAdapter }, { StdioAdapter }] = await Promise.all([
    import('pino'), import('@fleetmind/models'), import('../agent/agent.js'), import('../agent/metrics.js'), import('../agent/shield.js'),
    import('../adapters/mqtt-adapter.js'), import('../adapters/stdio-adapter.js'),
  ]);
  const logger = pino({ level: opts.logLevel }, pino.destination(2));
  if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) throw new AgentConfigError('--tls-cert and --tls-key go together');
  const trustedKeyPem = opts.trustKey ? readFile('trusted key', opts.trustKey) : undefined;
  let shield: Shield | undefined;
  if (opts.shieldMaxSpeed !== undefined || opts.shieldMinDistance !== undefined) {
    const { manifest } = checkBundleFiles(opts.bundle, { trustedKeyPem });
    const role = manifest.roles.find((r) => r.agents.includes(opts.agent));
    if (!role) throw new AgentConfigError(`agent "${opts.agent}" is not in bundle ${opts.bundle}`);
    shield = mpeShield(role, { maxSpeed: opts.shieldMaxSpeed, minDistance: opts.shieldMinDistance });
  }
  const adapter = opts.adapter === 'stdio' ? new StdioAdapter() : new MqttAdapter();
  // a supervisor may stop the agent while it is still starting (it has logged "agent started"
  // before its metrics are up): its signals are ours from the first moment, and honoured once started
  let requestStop: (why: string) => void = () => {};
  const stopRequested = new Promise<string>((resolve) => { requestStop = resolve; });
  process.once('SIGTERM', () => requestStop('SIGTERM'));
  process.once('SIGINT', () => requestStop('SIGINT'));
  const agent: FleetAgent = await createAgent({
    bundle: opts.bundle,
    agentId: opts.agent,
    broker: opts.broker,
    fleet: opts.fleet,
    username: opts.username,
    password: opts.password ?? process.env.FLEETMIND_PASSWORD,
    tlsCa: opts.tlsCa ? readFile('CA certificate', opts.tlsCa) : undefined,
    tlsCert: opts.tlsCert ? readFile('device certificate', opts.tlsCert) : undefined,
    tlsKey: opts.tlsKey ? readFile('device key', opts.tlsKey) : undefined,
    trustedKeyPem,
    bundleStore: opts.bundleStore,
    adapter,
    shield,
    logger,
    hz: opts.hz ?? null,
    roundDeadlineMs: opts.roundDeadlineMs,
    tickBudgetMs: opts.tickBudgetMs ?? null,
    heartbeatMs: opts.heartbeatMs,
    peerTimeoutMs: opts.peerTimeoutMs,
    lostNotices: opts.lostNotices ?? false,
    peers: opts.peers ?? null,
    statusMs: opts.statusMs,
    actionRateLimit: opts.actionRateLimit ?? null,
    maxObservationAgeMs: opts.maxObservationAgeMs,
    memoryMaxAgeMs: opts.memoryMaxAgeMs,
    observationQueue: opts.observationQueue,
    peerChecks: opts.peerChecks,
    record: opts.record ? {
      dir: opts.record,
      maxFileBytes: Math.round(opts.recordFileMb * 2 ** 20),
      maxFileAgeMs: opts.recordFileMinutes * 60_000,
      budgetBytes: Math.round(opts.recordBudgetMb * 2 ** 20),
    } : null,
  });
  let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | null = null;
  try {
    if (opts.metricsPort !== undefined) metricsServer = await serveMetrics(agent.metrics.registry, opts.metricsPort);
  } catch (err) {
    // a half-started agent (no metrics, no signal handlers) would run on unseen: a supervisor must see it fail
    await agent.stop();
    throw err;
  }
  if (metricsServer) logger.info({ port: metricsServer.port }, 'metrics at /metrics');
  // a piping robot that closes our stdin is gone: stop as if told to
  if (adapter instanceof StdioAdapter) void adapter.ended.then(() => requestStop('end of input'));
  logger.info({ why: await stopRequested }, 'stopping');
  await agent.stop();
  metricsServer?.server.close();
}
