// `fleetmind fleet`: the runtime agents of a bundle, each behind its link proxy with a fault plan
// acting as in `fleetmind sim`, and no world — the user's simulator plays it over the wire
// contract (docs/wire-contract.md) and announces its episodes on the observations.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import type { FleetMode, FleetRunReport } from '@fleetmind/sim-harness/fleet';
import { CliError, EXIT_FAILED } from '../errors.js';
import { nameList, nonNegativeInt, positiveInt, positiveNumber } from '../options.js';
import { printJson, printTable } from '../output.js';

interface FleetCliOptions {
  bundle?: string;
  broker: string;
  fleet: string;
  agents?: string[];
  faults?: string;
  mode: FleetMode;
  report?: string;
  ticks?: number;
  seed: number;
  roundDeadlineMs: number;
  tickBudgetMs?: number;
  maxObservationAgeMs?: number;
  observationQueue: 'latest' | 'fifo';
  peerChecks: 'off' | 'quarantine';
  connections: 'per-agent' | 'shared';
  inference: 'per-agent' | 'batched';
  username?: string;
  password?: string;
  json?: boolean;
}

export function registerFleet(program: Command): void {
  program
    .command('fleet')
    .description('run a bundle\'s agents for your own simulator: each agent behind its link proxy, a fault plan applied as in `fleetmind sim`, and no world. Your simulator publishes each agent\'s Observation on fm/<fleet>/a/<agent>/obs and reads its Action on …/act (docs/wire-contract.md; a Python client is in examples/remote/fleet_client.py); it may publish WorldStepRecords on fm/<fleet>/world for returns. Stops on Ctrl-C, on Control {command: "stop"} on fm/<fleet>/ctl, or after --ticks, and reports what happened')
    .option('--bundle <dir>', 'policy bundle: its agents are the fleet; required')
    .option('--broker <url>', 'the broker your simulator uses (mqtt://host:port), or embedded (the fleetmind broker on a free loopback port, printed when ready)', 'embedded')
    .option('--fleet <name>', 'fleet name: the topic namespace fm/<fleet>/', 'fleet')
    .option('--agents <ids>', 'a shard: only these of the bundle\'s agents run here; the others run in other `fleetmind fleet --agents` processes, on this host or others, on the same broker or a broker of its cluster (fleetmind sim --shards does this on one host)', nameList)
    .option('--faults <plan>', 'fault plan (YAML or JSON, as for `fleetmind sim`): windows count your simulator\'s episodes (Observation.episode) and ticks')
    .addOption(new Option('--mode <mode>', 'agents in this process, in worker threads, or in child processes (crashes are real kills)').choices(['inproc', 'threads', 'procs']).default('inproc'))
    .option('--ticks <n>', 'stop after this many of the simulator\'s ticks (default: run until stopped)', positiveInt)
    .option('--seed <s>', 'seed of the fault plan\'s random choices', nonNegativeInt, 0)
    .option('--round-deadline-ms <ms>', 'how long a communication round waits for live peers', positiveNumber, 50)
    .option('--tick-budget-ms <ms>', 'a decision (its communication rounds included) that takes longer than this gets the safe action instead (default 250); shards of a lockstep `fleetmind sim --shards elsewhere` run take 2000 with --round-deadline-ms 900, so that no stall of a loaded host changes the episodes', positiveNumber)
    .option('--max-observation-age-ms <ms>', 'observations older than this by their sent_us, or further ahead (a clock that runs ahead), get the safe action', positiveNumber)
    .addOption(new Option('--observation-queue <mode>', 'observations that arrive while an agent\'s tick runs: latest (the newest replaces a waiting one) or fifo (each waits its turn)').choices(['latest', 'fifo']).default('latest'))
    .addOption(new Option('--peer-checks <mode>', 'quarantine: check each peer\'s messages against the policy\'s own arithmetic, leave out a message that fails and quarantine a peer that fails twice in a row (a defence against a lying peer; teams where every agent hears every other, two or more rounds); off: trust every well-formed message').choices(['off', 'quarantine']).default('off'))
    .addOption(new Option('--connections <kind>', 'per-agent: each agent its own MQTT connection, as robots have; shared: the agents of this process on one (the broker sends a message once to the process; --mode inproc; behind a fault plan\'s link proxies each agent keeps its own)').choices(['per-agent', 'shared']).default('per-agent'))
    .addOption(new Option('--inference <kind>', 'per-agent: each agent its own ONNX Runtime calls; batched: the calls this process\'s agents make in one turn run as one batch (--mode inproc; discrete policies; not with slow_inference faults)').choices(['per-agent', 'batched']).default('per-agent'))
    .option('--username <user>', 'a broker with users: a user of role fleet (`fleetmind broker user add --role fleet --fleet F`), which publishes what an agent does for any agent of its fleet; the agents and the bridge connect as it')
    .option('--password <password>', 'its password (or set FLEETMIND_PASSWORD, which ps does not show)')
    .option('--report <dir>', 'write report.json there when the run ends')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', '\nPrints "fleet <name> ready: N agents on <broker>" once every agent is online; start your simulator then.\n\nExamples:\n  $ fleetmind fleet --bundle models/zoo/spread-commnet --broker mqtt://127.0.0.1:1883 --fleet lab\n  $ fleetmind fleet --bundle models/zoo/spread-commnet --faults sim-harness/faults/examples/crash-10pct.yaml --report out/fleet\n  $ fleetmind fleet --bundle models/zoo/spread-commnet --broker mqtt://10.0.0.2:1883 --fleet lab --agents agent_0,agent_1\n  $ fleetmind fleet --bundle models/zoo/spread-commnet --fleet lab --connections shared --inference batched\n  $ python3 examples/remote/fleet_client.py --broker mqtt://127.0.0.1:1883 --fleet lab --bundle models/zoo/spread-commnet')
    .action(async (opts: FleetCliOptions) => {
      const [{ checkBundleFiles }, { loadFaultPlan, runFleet }] = await Promise.all([import('@fleetmind/models'), import('@fleetmind/sim-harness/fleet')]);
      if (!opts.bundle) throw new CliError('--bundle <dir> is required');
      if (!existsSync(join(opts.bundle, 'manifest.json'))) throw new CliError(`${opts.bundle} is not a bundle folder (no manifest.json)`);
      checkBundleFiles(opts.bundle);
      if (opts.broker !== 'embedded' && !/^mqtts?:\/\//.test(opts.broker)) throw new CliError(`--broker: expected "embedded" or mqtt://host:port, got "${opts.broker}"`);
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(opts.fleet)) throw new CliError(`--fleet: "${opts.fleet}" is not a fleet id (1-64 of A-Z a-z 0-9 _ . -)`);
      const password = opts.password ?? process.env.FLEETMIND_PASSWORD;
      if (opts.username !== undefined && opts.broker === 'embedded') throw new CliError('--username: the embedded broker has no users; give --broker mqtt://host:port of a broker that has them');
      if (opts.username !== undefined && !password) throw new CliError('--username needs a password: --password or FLEETMIND_PASSWORD');
      if (opts.username === undefined && opts.password !== undefined) throw new CliError('--password needs --username');
      const faults = opts.faults ? loadFaultPlan(opts.faults) : null;
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let report: FleetRunReport;
      try {
        report = await runFleet({
          bundle: opts.bundle, broker: opts.broker, fleet: opts.fleet, agents: opts.agents, faults, mode: opts.mode, seed: opts.seed, ticks: opts.ticks ?? null,
          connections: opts.connections, inference: opts.inference,
          agent: {
            roundDeadlineMs: opts.roundDeadlineMs, observationQueue: opts.observationQueue, peerChecks: opts.peerChecks,
            ...(opts.tickBudgetMs !== undefined ? { tickBudgetMs: opts.tickBudgetMs } : {}),
            ...(opts.maxObservationAgeMs !== undefined ? { maxObservationAgeMs: opts.maxObservationAgeMs } : {}),
          },
          ...(opts.username !== undefined ? { credentials: { username: opts.username, password: password! } } : {}),
          signal: abort.signal,
          onReady: (info) => process.stderr.write(`fleet ${info.fleet} ready: ${info.agents.length} agents on ${info.broker}\n`),
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      if (opts.report) {
        mkdirSync(opts.report, { recursive: true });
        writeFileSync(join(opts.report, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
      }
      if (opts.json) printJson(report);
      else {
        printTable(['', 'value'], [
          ['ticks (episodes)', `${report.ticks} (${report.episodes})`],
          ['observations → actions', `${report.observations} → ${report.answered} (asked ${report.asked}, unanswered ${report.unanswered}, lost with a crashed or frozen agent ${report.lost_with_agent})`],
          ['not asked: agent down / unknown agent / undecodable', `${report.not_asked.agent_down} / ${report.not_asked.unknown_agent} / ${report.not_asked.undecodable}`],
          ['tiers full/partial/none/safe', `${report.tiers.full}/${report.tiers.partial}/${report.tiers.none}/${report.tiers.safe}`],
          ['observation → action p50 / p99', `${report.tick_ms.p50} / ${report.tick_ms.p99} ms`],
          ['peer messages sent / delivered', `${report.messages.sent} / ${report.messages.delivered}`],
          ['faults applied', Object.entries(report.faults_applied).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'],
          ...(report.episode_team_returns.length ? [['team return per episode (mean)', (report.episode_team_returns.reduce((a, b) => a + b, 0) / report.episode_team_returns.length).toFixed(3)]] : []),
        ]);
        if (opts.report) process.stdout.write(`report: ${join(opts.report, 'report.json')}\n`);
      }
      if (report.unanswered > 0) {
        process.stderr.write(`fleetmind: ${report.unanswered} observations handed to running agents got no action by the end\n`);
        process.exitCode = EXIT_FAILED;
      }
    });
}
