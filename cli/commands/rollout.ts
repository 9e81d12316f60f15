// `fleetmind rollout`: ship a new bundle to a running fleet over its broker (docs/rollout.md).
// Agents started with --bundle-store download it in the background, verify it (sha256 of every
// chunk and file, the signature against their --trust-key), load it beside the running one and
// switch between two ticks; `status` shows the fleet by version; `rollback` puts it back.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { AgentRolloutReport, OperatorConnection, RolloutOperator, RolloutPlan, RolloutStrategy } from '@fleetmind/runtime';
import { CliError, EXIT_FAILED } from '../errors.js';
import { nameList, nonNegativeInt, positiveInt } from '../options.js';
import { printJson, printTable } from '../output.js';

interface ConnectionOptions {
  broker: string;
  fleet: string;
  username?: string;
  password?: string;
  tlsCa?: string;
  waitMs: number;
  json?: boolean;
}

function readText(what: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read the ${what} ${path}: ${(err as Error).message}`);
  }
}

function connection(opts: ConnectionOptions): OperatorConnection {
  return {
    brokerUrl: opts.broker, fleet: opts.fleet, username: opts.username, password: opts.password ?? process.env.FLEETMIND_PASSWORD,
    tlsCa: opts.tlsCa ? readText('CA certificate', opts.tlsCa) : undefined,
  };
}

function withConnection(command: Command): Command {
  return command
    .requiredOption('--broker <url>', 'the fleet\'s broker: mqtt://host:port or mqtts://…')
    .option('--fleet <name>', 'fleet name: the topic namespace fm/<fleet>/', 'default')
    .option('--username <user>', 'broker username (an admin: only admins publish rollouts when auth is on)')
    .option('--password <password>', 'broker password (or set FLEETMIND_PASSWORD, which ps does not show)')
    .option('--tls-ca <file>', 'PEM of the CA that signed the broker certificate (mqtts://)')
    .option('--wait-ms <ms>', 'how long to collect the agents\' retained reports', positiveInt, 1_000)
    .option('--json', 'print JSON');
}

const short = (id: string) => id.slice(0, 12);

function printFleet(plan: RolloutPlan | null, reports: AgentRolloutReport[], unreadable: string[]): void {
  const stage = plan?.stage ? (plan.stage.number === 0 ? ` (the shadow stage, before ${plan.stage.of} stages)` : ` (stage ${plan.stage.number} of ${plan.stage.of})`) : '';
  if (plan) process.stdout.write(`plan ${plan.rollout}${stage}: ${plan.offer ? `offers ${plan.offer.name} ${plan.offer.version} (${short(plan.offer.id)})` : 'a rollback (no download)'}, switch ${plan.switch_at_tick === null ? 'when ready' : `at tick ${plan.switch_at_tick}`}\n`);
  else process.stdout.write('no rollout plan on this fleet\n');
  if (reports.length === 0) process.stdout.write('no agent has reported (agents report when started with --bundle-store)\n');
  else {
    printTable(['agent', 'running', 'state', 'staged', 'shadow', 'download', 'refused'], reports.map((r) => [
      r.agent, `${r.running.name} ${r.running.version} (${short(r.running.id)})`, r.state,
      r.staged ? `${r.staged.version} (${short(r.staged.id)})` : '-',
      r.shadow ? `${r.shadow.version}: ${(100 * r.shadow.agreement).toFixed(1)} % of ${r.shadow.decisions} agree` : '-',
      r.download ? `${r.download.have}/${r.download.of} chunks` : '-',
      r.refused ? `${r.refused.reason}: ${r.refused.detail}` : '-',
    ]));
  }
  for (const problem of unreadable) process.stderr.write(`warning: ${problem}\n`);
}

/** The fleet by running bundle: { id: { name, version, agents } }. */
function byVersion(reports: AgentRolloutReport[]): Record<string, { name: string; version: string; agents: string[] }> {
  const groups: Record<string, { name: string; version: string; agents: string[] }> = {};
  for (const r of reports) (groups[r.running.id] ??= { name: r.running.name, version: r.running.version, agents: [] }).agents.push(r.agent);
  return groups;
}

/** A strategy file (YAML or JSON), refused with its path and the first problem. */
export async function readStrategy(path: string): Promise<RolloutStrategy> {
  const [{ parse }, { rolloutStrategySchema }] = await Promise.all([import('yaml'), import('@fleetmind/runtime')]);
  let raw: unknown;
  try {
    raw = parse(readText('strategy', path));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${path} is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = rolloutStrategySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(`${path}: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
  }
  return parsed.data;
}

/** A strategy for a real fleet: one with a gate only a simulation can judge is refused before anything is published. */
async function readFleetStrategy(path: string): Promise<RolloutStrategy> {
  const [strategy, { strategyProblem }] = await Promise.all([readStrategy(path), import('@fleetmind/runtime')]);
  const problem = strategyProblem(strategy, false);
  if (problem) throw new CliError(`${path}: ${problem}`);
  return strategy;
}

async function runStaged(operator: RolloutOperator, strategy: RolloutStrategy, opts: ConnectionOptions & { bundle: string; key?: string; switchAtTick?: number; name?: string; chunkBytes?: number }): Promise<void> {
  const { runRollout } = await import('@fleetmind/runtime');
  const { reports } = await operator.read(opts.waitMs);
  if (reports.length === 0) throw new CliError(`no agent of fleet ${opts.fleet} has reported: start the agents with --bundle-store`);
  const offered = await operator.offer({ bundleDir: opts.bundle, signingKeyPem: opts.key ? readText('signing key', opts.key) : undefined, chunkBytes: opts.chunkBytes });
  process.stderr.write(`published ${offered.offer.name} ${offered.offer.version} (${short(offered.offer.id)}): ${offered.bytes} bytes in ${offered.offer.chunks.length} chunks\n`);
  const result = await runRollout({
    operator, offer: offered.offer, strategy, rollout: opts.name ?? `rollout-${Date.now()}`, agents: reports.map((r) => r.agent), switchAtTick: opts.switchAtTick ?? null,
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  if (opts.json) printJson(result);
  else process.stdout.write(result.outcome === 'completed'
    ? `rollout ${result.rollout} completed: ${result.stages.at(-1)?.agents.length ?? 0} agents run ${result.bundle.name} ${result.bundle.version}\n`
    : `rollout ${result.rollout} aborted: ${result.abort!.reason}\n${result.abort!.rolled_back_ms === null ? 'the fleet was not seen back on its old bundles' : `the fleet was back on its old bundles ${Math.round(result.abort!.rolled_back_ms)} ms after the abort`}\n`);
  if (result.outcome === 'aborted') process.exitCode = EXIT_FAILED;
}

/** abort and rollback: a plan assigning every agent what the current plan replaced */
function assignBack(kind: 'abort' | 'rollback') {
  return async (opts: ConnectionOptions & { name?: string }) => {
    const { RolloutOperator } = await import('@fleetmind/runtime');
    const operator = await RolloutOperator.connect(connection(opts));
    try {
      const plan = await operator.rollback(opts.name ?? `${kind}-${Date.now()}`, opts.waitMs);
      if (opts.json) printJson({ rollout: plan.rollout, assign: plan.assign });
      else process.stdout.write(`plan ${plan.rollout} assigns back: ${Object.entries(plan.assign).map(([agent, id]) => `${agent} → ${short(id)}`).join(', ')}\n`);
    } finally {
      await operator.close();
    }
  };
}

export function registerRollout(program: Command): void {
  const rollout = program
    .command('rollout')
    .description('ship a new bundle to a running fleet over its broker: agents started with --bundle-store download, verify and switch to it between two ticks; a strategy rolls out stage by stage behind health gates and rolls back on a failing one; status shows the fleet by version; abort and rollback put the old bundle back')
    .addHelpText('after', '\nExamples:\n  $ fleetmind rollout start --bundle models/zoo/spread-commnet --broker mqtt://127.0.0.1:1883 --fleet lab --key operator.key\n  $ fleetmind rollout start --bundle models/zoo/spread-commnet --broker mqtt://127.0.0.1:1883 --fleet lab --strategy canary.yaml\n  $ fleetmind rollout status --broker mqtt://127.0.0.1:1883 --fleet lab\n  $ fleetmind rollout rollback --broker mqtt://127.0.0.1:1883 --fleet lab');

  withConnection(rollout.command('start')
    .description('publish a bundle (retained, in chunks under the broker\'s packet limit) and a plan assigning it to the fleet or to --agents; refused before anything is published when the running agents\' message layout differs')
    .requiredOption('--bundle <dir>', 'the bundle to roll out')
    .option('--key <file>', 'sign the bundle with this Ed25519 private key on the way (agents with --trust-key refuse unsigned bundles)')
    .option('--agents <ids>', 'only these agents (a canary); the others keep their bundle', nameList)
    .option('--switch-at-tick <n>', 'every assigned agent switches at this tick (lockstep: the world\'s; free-running: the wall clock\'s), so a team switches together; default: each as soon as it is ready', nonNegativeInt)
    .option('--name <rollout>', 'the rollout\'s name (default: rollout-<time>)')
    .option('--chunk-bytes <n>', 'bytes per chunk: under the broker\'s packet limit', positiveInt)
    .option('--spread-ms <ms>', 'each agent starts its download after a random delay up to this long: a large fleet does not download all at once', nonNegativeInt, 0)
    .option('--shadow', 'shadow mode: the agents run the bundle beside their own on the same inputs, never act on it, and report how often it chose what the live policy chose (rollout status); a later plan or a rollback ends it')
    .option('--strategy <file>', 'run the rollout stage by stage (YAML or JSON: kind all|canary|staged, canary, staged, soak_s, min_decisions, stage_timeout_s, gates, pinned; see docs/rollout.md): each stage soaks, its health gates are judged on the switched agents\' own counters, and a failing gate rolls every agent back; exits 1 when aborted')
    .addHelpText('after', '\nExamples:\n  $ fleetmind rollout start --bundle models/zoo/spread-commnet --broker mqtt://127.0.0.1:1883 --fleet lab --key operator.key\n  $ fleetmind rollout start --bundle runs/new-bundle --broker mqtt://127.0.0.1:1883 --fleet lab --strategy examples/rollout/canary.yaml\n  $ fleetmind rollout start --bundle runs/new-bundle --broker mqtt://127.0.0.1:1883 --fleet lab --shadow'))
    .action(async (opts: ConnectionOptions & { bundle: string; key?: string; agents?: string[]; switchAtTick?: number; name?: string; chunkBytes?: number; strategy?: string; shadow?: boolean; spreadMs: number }) => {
      const { RolloutOperator } = await import('@fleetmind/runtime');
      const strategy = opts.strategy ? await readFleetStrategy(opts.strategy) : null;
      if (strategy && opts.agents) throw new CliError('--agents and --strategy: name a canary in the strategy (canary: {agents: [...]})');
      if (strategy && opts.shadow) throw new CliError('--shadow and --strategy: put a shadow stage in the strategy (shadow: {min_agreement: 0.9})');
      const operator = await RolloutOperator.connect(connection(opts));
      try {
        if (strategy) return await runStaged(operator, strategy, opts);
        const result = await operator.start({
          bundleDir: opts.bundle, rollout: opts.name ?? `rollout-${Date.now()}`, agents: opts.agents ?? null, switchAtTick: opts.switchAtTick ?? null,
          signingKeyPem: opts.key ? readText('signing key', opts.key) : undefined, chunkBytes: opts.chunkBytes, waitMs: opts.waitMs, shadow: opts.shadow, spreadMs: opts.spreadMs,
        });
        if (opts.json) printJson({ rollout: result.plan.rollout, bundle: result.plan.offer, assign: result.plan.assign, replaces: result.plan.replaces, chunks: result.chunks, bytes: result.bytes, publish_ms: Math.round(result.publishMs), agents_reporting: result.agents });
        else process.stdout.write(`published ${result.plan.offer!.name} ${result.plan.offer!.version} (${short(result.plan.offer!.id)}): ${result.bytes} bytes in ${result.chunks} chunks, ${Math.round(result.publishMs)} ms; plan ${result.plan.rollout} assigns it to ${opts.agents?.join(', ') ?? 'every agent'}${opts.shadow ? ' in shadow mode' : ''} (${result.agents} reporting now)\nfollow it with: fleetmind rollout status --broker ${opts.broker} --fleet ${opts.fleet}\n`);
      } finally {
        await operator.close();
      }
    });

  withConnection(rollout.command('status')
    .description('what each agent runs, has staged and is downloading, and what it refused, from their retained reports')
    .addHelpText('after', '\nExamples:\n  $ fleetmind rollout status --broker mqtt://127.0.0.1:1883 --fleet lab\n  $ fleetmind rollout status --broker mqtt://127.0.0.1:1883 --fleet lab --json'))
    .action(async (opts: ConnectionOptions) => {
      const { RolloutOperator } = await import('@fleetmind/runtime');
      const operator = await RolloutOperator.connect(connection(opts));
      try {
        const { plan, reports, unreadable } = await operator.read(opts.waitMs);
        if (opts.json) printJson({ fleet: opts.fleet, plan: plan && { rollout: plan.rollout, offer: plan.offer && { id: plan.offer.id, name: plan.offer.name, version: plan.offer.version }, assign: plan.assign, switch_at_tick: plan.switch_at_tick, stage: plan.stage }, by_version: byVersion(reports), agents: reports, unreadable });
        else printFleet(plan, reports, unreadable);
      } finally {
        await operator.close();
      }
    });

  withConnection(rollout.command('abort')
    .description('stop a rollout in progress: every agent is assigned back the bundle the current plan replaced, and a `rollout start --strategy` still running stops without publishing more')
    .option('--name <rollout>', 'the abort\'s name (default: abort-<time>)')
    .addHelpText('after', '\nExamples:\n  $ fleetmind rollout abort --broker mqtt://127.0.0.1:1883 --fleet lab'))
    .action(assignBack('abort'));

  withConnection(rollout.command('rollback')
    .description('assign every agent the bundle the current plan replaced: they hold it, so they switch back without a download')
    .option('--name <rollout>', 'the rollback\'s name (default: rollback-<time>)')
    .addHelpText('after', '\nExamples:\n  $ fleetmind rollout rollback --broker mqtt://127.0.0.1:1883 --fleet lab'))
    .action(assignBack('rollback'));
}
