// `fleetmind sim` and `fleetmind sim sweep`: fleets of real runtime agents over a real broker,
// a simulated world in place of sensors and motors, and a fault plan.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { CampaignResult, FaultPlan, FleetMode } from '@fleetmind/sim-harness/fleet';
import { LOCKSTEP_TICK_TIMEOUT_MS } from '@fleetmind/sim-harness/lockstep-timing';
import { JUNCTION_SHIELDS, type JunctionShield } from '@fleetmind/worlds';
import { CliError, EXIT_FAILED } from '../errors.js';
import { nonNegativeInt, positiveInt, positiveNumber, probability } from '../options.js';
import { printJson, printSummaries, printTable, progressLine } from '../output.js';
import { readStrategy } from './rollout.js';
import { addToMarlEvalFile, checkMarlEvalFile, marlEvalTask } from '../marl-eval-file.js';

interface SimCliOptions {
  /** one bundle, or one per training seed (summarised over them) */
  bundle?: string[];
  world?: string;
  agents?: number;
  episodes: number;
  seed: number;
  faults?: string;
  broker: string;
  mode: FleetMode;
  report?: string;
  record?: string;
  hz?: number;
  tickTimeoutMs: number;
  auth?: boolean;
  missingAction: 'safe' | 'hold';
  shield?: JunctionShield;
  peerChecks: 'off' | 'quarantine';
  json?: boolean;
  failUnder?: number;
  rollout?: string;
  rolloutBundle?: string;
  requireCriteria?: boolean;
  shards?: number | 'elsewhere';
  fleet?: string;
  marlEval?: string;
  algorithm?: string;
}

function shardCount(value: string): number | 'elsewhere' {
  if (value === 'elsewhere') return value;
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError(`expected a number of processes (1 or more) or "elsewhere", got "${value}"`);
  return Number(value);
}

/**
 * The bundle the fleet runs: the given one, or — with --agents N on a size-agnostic policy
 * (k-nearest observations, no agent index) — the same graphs with a manifest for N agents, made
 * in a temporary folder that dispose() removes.
 */
function fleetBundle(bundle: string, opts: SimCliOptions, { checkBundleFiles, resizeBundle, BundleError }: SimParts): { dir: string; dispose: () => void } {
  const { manifest } = checkBundleFiles(bundle);
  const agents = manifest.roles.flatMap((r) => r.agents).length;
  if (opts.agents === undefined || opts.agents === agents) return { dir: bundle, dispose: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'fleetmind-resized-'));
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  try {
    resizeBundle(bundle, dir, opts.agents);
  } catch (err) {
    dispose();
    if (err instanceof BundleError) throw new CliError(`--agents ${opts.agents}: the bundle has ${agents} agents and cannot serve another fleet size: ${err.message}`);
    throw err;
  }
  return { dir, dispose };
}

/** What a run needs, imported when it runs: `--help` and refused arguments stay quick. */
async function simParts() {
  const [models, harness, worlds] = await Promise.all([import('@fleetmind/models'), import('@fleetmind/sim-harness/fleet'), import('@fleetmind/worlds')]);
  return { ...harness, checkBundleFiles: models.checkBundleFiles, resizeBundle: models.resizeBundle, BundleError: models.BundleError, summarizeRuns: worlds.summarizeRuns, marlEvalLayout: worlds.marlEvalLayout };
}
type SimParts = Awaited<ReturnType<typeof simParts>>;

/** What the bundles play: a world with its options and a fleet (several bundles must share them) */
interface BundlesWorld {
  id: string;
  config: Record<string, unknown>;
  /** the world, its options and the fleet's agents, in words */
  description: string;
  /** the first bundle's name */
  name: string;
}

/** The bundles' world, after checking each bundle; several must play the same one. */
function checkBundles(opts: SimCliOptions, { checkBundleFiles }: SimParts): BundlesWorld {
  if (!opts.bundle) throw new CliError('--bundle <dir> is required');
  let world: BundlesWorld | undefined;
  for (const bundle of opts.bundle) {
    if (!existsSync(join(bundle, 'manifest.json'))) throw new CliError(`${bundle} is not a bundle folder (no manifest.json)`);
    const { manifest } = checkBundleFiles(bundle);
    if (manifest.world.remote) {
      throw new CliError(`${bundle} was trained against a remote world (${manifest.world.remote}): fleetmind sim plays in-process worlds; run its agents for your simulator with \`fleetmind fleet --bundle ${bundle}\``);
    }
    if (opts.world && opts.world !== manifest.world.id && !manifest.world.id.startsWith(`${opts.world}_`)) {
      throw new CliError(`--world ${opts.world}: ${opts.bundle.length === 1 ? 'the bundle' : bundle} was trained on ${manifest.world.id}`);
    }
    const its = `${manifest.world.id} ${JSON.stringify(manifest.world.config ?? {})} with ${manifest.roles.flatMap((r) => r.agents).join(', ')}`;
    if (world !== undefined && its !== world.description) throw new CliError(`--bundle: bundles summarised together play one world with one fleet; ${opts.bundle[0]} plays ${world.description} and ${bundle} ${its}`);
    world ??= { id: manifest.world.id, config: manifest.world.config ?? {}, description: its, name: manifest.name };
  }
  if (opts.broker !== 'embedded' && !/^mqtts?:\/\//.test(opts.broker)) throw new CliError(`--broker: expected "embedded" or mqtt://host:port, got "${opts.broker}"`);
  return world!;
}

/** The one bundle a command plays (sim sweep, and sim with a report, a recording, a rollout …). */
function oneBundle(opts: SimCliOptions, refusedBecause: string): string {
  const bundles = opts.bundle!;
  if (bundles.length > 1) throw new CliError(`--bundle is given ${bundles.length} times: ${refusedBecause} takes one bundle`);
  return bundles[0];
}

const addCommonOptions = (cmd: Command): Command => cmd
  .option('--bundle <dir>', 'policy bundle (its world and agents are the fleet); required. Repeat it for bundles trained with other seeds: each plays the same episodes under the same faults, and the figures are summarised over bundles (interquartile mean, 95 % bootstrap interval)', (dir: string, previous: string[] = []) => [...previous, dir])
  .option('--world <id>', 'the world (must be the bundle\'s; for checking)')
  .option('--agents <n>', 'fleet size: the bundle\'s, or any size for a size-agnostic policy (k-nearest observations, no agent index)', positiveInt)
  .option('--episodes <n>', 'episodes per run', positiveInt, 20)
  .option('--seed <s>', 'seed: episode k plays the same start as `fleetmind eval` episode k', nonNegativeInt, 0)
  .option('--broker <url>', 'embedded (the fleetmind broker on a free loopback port) or mqtt://host:port', 'embedded')
  .option('--auth', 'embedded broker with auth and ACLs on: a user with a random password per agent (and one for the world), made for this run')
  .addOption(new Option('--mode <mode>', 'agents in this process, in worker threads, or in child processes (crashes are real kills)').choices(['inproc', 'threads', 'procs']).default('inproc'))
  .option('--hz <rate>', 'real time: one tick per 1/rate s (default: lockstep, as fast as the agents answer)', positiveNumber)
  .option('--tick-timeout-ms <ms>', 'lockstep: wait this long for actions, then replace the missing ones (a guard against a hang: crashed and frozen agents are not waited for)', positiveInt, LOCKSTEP_TICK_TIMEOUT_MS)
  .addOption(new Option('--missing-action <policy>', 'a silent agent\'s actuator: safe (the safe action: a watchdog stops it) or hold (keeps its last command)').choices(['safe', 'hold']).default('safe'))
  .addOption(new Option('--peer-checks <mode>', 'quarantine: each agent checks its peers\' messages against the policy\'s own arithmetic (a CommNet round\'s message is what the last stage makes of the peer\'s previous one and what the team said), leaves out a message that fails and quarantines a peer that fails twice in a row: a defence against a lying peer (the hostile fault) that needs no retraining. off: trust every well-formed message').choices(['off', 'quarantine']).default('off'))
  .addOption(new Option('--shield <kind>', 'a safety layer in the world over every agent\'s action, its overrides counted in the outcomes (traffic_junction): emergency-brake (a car brakes rather than move onto a car or a cell another car with the right of way enters); keep-clear (that, and no car waits on an arrival cell, where new cars are placed, or holds up the queue on one, when it can drive on)').choices([...JUNCTION_SHIELDS]));

export function registerSim(program: Command): void {
  const sim = addCommonOptions(program.command('sim'))
    .description('Run a fleet of runtime agents from a bundle over a real broker, the world simulated, with an optional fault plan; reports returns, fallback tiers, latency and messages, and with --faults the nominal run and retained performance too.')
    .option('--faults <file>', 'fault plan, YAML or JSON (examples: sim-harness/faults/examples/)')
    .option('--report <dir>', 'write report.json and a self-contained report.html (plots, episode replay)')
    .option('--json', 'print the run as JSON (the fields of `fleetmind eval` plus tick_ms, tiers, messages, faults_applied)')
    .option('--marl-eval <file>', 'with --bundle repeated: also write every bundle\'s figures in marl-eval\'s JSON layout (per-episode returns, nominal and faulted; added to the file if it exists: one algorithm per call)')
    .option('--algorithm <name>', 'the algorithm\'s name in --marl-eval data (default: the first bundle\'s name, then @ and the fault plan\'s name, then +peer-checks and +the shield when on)')
    .option('--fail-under <fraction>', 'exit 1 when retained performance is below this (0-1; needs --faults): a gate for CI pipelines', probability)
    .option('--require-criteria', 'exit 1 when any criterion of the checklist fails (joint success, actions in time, the robustness bars)')
    .option('--rollout <strategy>', 'roll --rollout-bundle out to the fleet while the episodes play, stage by stage behind the strategy\'s health gates (YAML or JSON, as for `fleetmind rollout start --strategy`); the nominal run has no rollout, so retained performance is the rollout\'s. Not deterministic: stages advance on the wall clock')
    .option('--rollout-bundle <dir>', 'the bundle --rollout ships')
    .option('--fleet <name>', 'fleet name: the topic namespace fm/<fleet>/ (default: sim-<random>, unique on a shared broker)')
    .option('--shards <k>', 'the agents in K processes (`fleetmind fleet --agents …`, agent i in shard i mod K), the world in this one speaking the wire contract over the broker; "elsewhere": shards someone started on other hosts with `fleetmind fleet --fleet F --agents …` against --broker (or a broker of its cluster), waited for until every agent is heard. No fault plan yet: cut the links between hosts instead', shardCount)
    .option('--record <dir>', 'flight recordings of every agent and the world\'s ground truth (positions, rewards, faults as they struck), MCAP, in <dir>/nominal and <dir>/faulted; `fleetmind replay <dir>/faulted` makes every decision again')
    .addHelpText('after', `
Lockstep runs (the default) are deterministic: the same bundle, seed and plan give the same report
in every fleet mode, but for the wall-clock tick_ms. Time is simulated: a lost message is announced
to its receiver instead of timed out, and a delay counts against the round deadline. --hz runs in
real time and is as timing-dependent as a real fleet. slow_inference and broker_outage act in
wall-clock time in either mode.

Ctrl-C finishes the episode in progress, writes the report of what was played (marked partial)
and stops every agent; a second Ctrl-C quits at once.

A missing action (a crashed or frozen agent, or one slower than the timeout) is replaced by the
role's safe action, as a watchdog stops a robot whose controller fell silent; --missing-action hold
keeps its last command instead.

Examples:
  $ fleetmind sim --bundle models/zoo/spread-commnet --episodes 10
  $ fleetmind sim --bundle models/zoo/spread-commnet --faults sim-harness/faults/examples/crash-10pct.yaml --report out/crash
  $ fleetmind sim --bundle models/zoo/spread-commnet --mode procs --broker mqtt://127.0.0.1:1883 --json
  $ fleetmind sim --bundle models/zoo/spread-commnet --shards 2
  $ fleetmind sim --bundle runs/seed1/bundle --bundle runs/seed2/bundle --bundle runs/seed3/bundle --faults sim-harness/faults/examples/msg-loss-30.yaml
      (one bundle per training seed: every figure summarised over them)
  $ fleetmind sim --bundle models/zoo/spread-commnet --shards elsewhere --broker mqtt://10.0.0.1:1883 --fleet lab
      (with, on each other host: fleetmind fleet --bundle models/zoo/spread-commnet --broker mqtt://… --fleet lab --agents agent_0,agent_2)`)
    .action(async (opts: SimCliOptions) => {
      const parts = await simParts();
      const { loadFaultPlan, runCampaign } = parts;
      const world = checkBundles(opts, parts);
      const plan: FaultPlan | null = opts.faults ? loadFaultPlan(opts.faults) : null;
      if (opts.bundle!.length > 1) return simOverBundles(opts, world, plan, parts);
      if (opts.marlEval !== undefined || opts.algorithm !== undefined) throw new CliError(`${opts.marlEval !== undefined ? '--marl-eval' : '--algorithm'}: with --bundle repeated (one bundle per training seed), whose figures it records`);
      if (Boolean(opts.rollout) !== Boolean(opts.rolloutBundle)) throw new CliError('--rollout <strategy> and --rollout-bundle <dir> go together');
      if (opts.fleet !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(opts.fleet)) throw new CliError(`--fleet: "${opts.fleet}" is not a fleet id (1-64 of A-Z a-z 0-9 _ . -)`);
      const rollout = opts.rollout ? { strategy: await readStrategy(opts.rollout), bundle: opts.rolloutBundle! } : undefined;
      if (opts.failUnder !== undefined && !plan && !rollout) throw new CliError('--fail-under needs --faults or --rollout: retained performance compares that run with the nominal one');
      const progress = progressLine();
      const interrupted = whenInterrupted();
      const fleet = fleetBundle(opts.bundle![0], opts, parts);
      let result: CampaignResult;
      try {
        result = await runCampaign({
          bundle: fleet.dir, plan, episodes: opts.episodes, seed: opts.seed, broker: opts.broker, mode: opts.mode, auth: opts.auth,
          hz: opts.hz ?? null, tickTimeoutMs: opts.tickTimeoutMs, missingAction: opts.missingAction, shield: opts.shield, reportDir: opts.report ?? null, recordDir: opts.record ?? null,
          onProgress: (phase, done, total) => progress(`${phase}: episode ${done}/${total}`), signal: interrupted.signal, rollout, shards: opts.shards ?? null,
          ...(opts.fleet ? { fleet: opts.fleet } : {}),
          agent: { peerChecks: opts.peerChecks },
        });
      } finally {
        interrupted.dispose();
        fleet.dispose();
        progress('');
      }
      if (opts.json) printJson(simJson(result));
      else printSim(result);
      judge(result, opts, parts.LATE_ACTIONS_LIMIT);
    });

  addCommonOptions(sim.command('sweep'))
    .description('Run a fault plan with one of its numbers set to each of several values and plot retained performance against it (the robustness curve).')
    .requiredOption('--faults <file>', 'fault plan, YAML or JSON')
    .requiredOption('--param <path>', 'the number to vary, e.g. faults[0].p')
    .requiredOption('--values <list>', 'comma-separated values, e.g. 0,0.1,0.3,0.5')
    .option('--report <dir>', 'write sweep.json and sweep.html (the curve)')
    .option('--json', 'print the sweep as JSON')
    .addHelpText('after', `
Examples:
  $ fleetmind sim sweep --bundle models/zoo/spread-commnet --faults sim-harness/faults/examples/msg-loss-30.yaml \\
      --param 'faults[0].p' --values 0,0.1,0.3,0.5,0.7,0.9 --episodes 20 --report out/sweep`)
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.opts<SimCliOptions & { param: string; values: string; faults: string }>();
      const parts = await simParts();
      const { loadFaultPlan, runSweep } = parts;
      checkBundles(opts, parts);
      const bundle = oneBundle(opts, 'a sweep');
      const values = opts.values.split(',').map((v) => {
        const n = Number(v);
        if (v.trim() === '' || !Number.isFinite(n)) throw new CliError(`--values: "${v}" is not a number`);
        return n;
      });
      const progress = progressLine();
      const fleet = fleetBundle(bundle, opts, parts);
      const { report, files } = await runSweep({
        bundle: fleet.dir, plan: loadFaultPlan(opts.faults), param: opts.param, values, episodes: opts.episodes, seed: opts.seed,
        broker: opts.broker, mode: opts.mode, auth: opts.auth, hz: opts.hz ?? null, tickTimeoutMs: opts.tickTimeoutMs, missingAction: opts.missingAction, shield: opts.shield, reportDir: opts.report ?? null,
        agent: { peerChecks: opts.peerChecks }, onProgress: progress,
      }).finally(() => fleet.dispose());
      progress('');
      if (opts.json) return printJson(report);
      const pct = (x: number) => (x * 100).toFixed(1);
      printTable([opts.param, 'team return', 'retained', '95 % CI'], report.points.map((p) => [p.value, p.team_return_mean.toFixed(2), `${pct(p.retained)} %`, `${pct(p.retained_interval[0])} to ${pct(p.retained_interval[1])} %`]));
      process.stdout.write(`nominal ${report.nominal_team_return_mean.toFixed(2)}, random ${report.random_team_return_mean.toFixed(2)} (team return, ${report.episodes} episodes)\n`);
      for (const f of files) process.stdout.write(`wrote ${f}\n`);
    });
}

/**
 * `--bundle` repeated, one bundle per training seed: each plays the same episodes under the same
 * plan, one after another, and each figure is summarised over bundles as `fleetmind eval --run …`
 * summarises runs: the interquartile mean of the bundles' figures with a 95 % bootstrap interval.
 */
async function simOverBundles(opts: SimCliOptions, world: BundlesWorld, plan: FaultPlan | null, parts: SimParts): Promise<void> {
  const refused: [keyof SimCliOptions, string][] = [['report', '--report'], ['record', '--record'], ['rollout', '--rollout'], ['rolloutBundle', '--rollout-bundle'], ['failUnder', '--fail-under'], ['requireCriteria', '--require-criteria'], ['shards', '--shards'], ['fleet', '--fleet'], ['agents', '--agents']];
  for (const [key, flag] of refused) if (opts[key] !== undefined) oneBundle(opts, flag);
  const bundles = opts.bundle!;
  // marl-eval's task is the world's options, as `fleetmind eval` names it; the plan, the defence and the shield are the algorithm's
  const task = marlEvalTask(world.config);
  const algorithm = opts.algorithm ?? `${world.name}${plan ? `@${plan.name ?? 'faults'}` : ''}${opts.peerChecks === 'quarantine' ? '+peer-checks' : ''}${opts.shield ? `+${opts.shield}` : ''}`;
  if (opts.marlEval) checkMarlEvalFile(opts.marlEval, { env: world.id, task, algorithm });
  const progress = progressLine();
  const interrupted = whenInterrupted();
  const results: CampaignResult[] = [];
  try {
    for (const [k, bundle] of bundles.entries()) {
      const result = await parts.runCampaign({
        bundle, plan, episodes: opts.episodes, seed: opts.seed, broker: opts.broker, mode: opts.mode, auth: opts.auth,
        hz: opts.hz ?? null, tickTimeoutMs: opts.tickTimeoutMs, missingAction: opts.missingAction, shield: opts.shield, reportDir: null, recordDir: null,
        onProgress: (phase, done, total) => progress(`bundle ${k + 1}/${bundles.length}: ${phase}: episode ${done}/${total}`), signal: interrupted.signal,
        agent: { peerChecks: opts.peerChecks },
      });
      if (result.report.partial) break;
      results.push(result);
      judge(result, opts, parts.LATE_ACTIONS_LIMIT);
    }
  } finally {
    interrupted.dispose();
    progress('');
  }
  if (results.length < bundles.length) {
    process.stderr.write(`fleetmind: partial run: interrupted after ${results.length} of ${bundles.length} bundles; ${results.length > 0 ? 'summarising the ones played in full' : 'nothing to summarise'}\n`);
    process.exitCode = 130;
    if (results.length === 0) return;
  }
  // marl-eval's step count: the env steps each bundle was trained for
  const runs = results.map((r, k) => ({ stepCount: parts.checkBundleFiles(bundles[k]).manifest.provenance?.env_steps ?? 0, metrics: bundleMetrics(r) }));
  const summaries = Object.keys(runs[0].metrics).map((metric) => parts.summarizeRuns(runs, metric, opts.seed));
  if (opts.json) {
    printJson({ world: world.id, task, algorithm, bundles: bundles.slice(0, results.length), episodes: opts.episodes, seed: opts.seed, faults: opts.faults ?? null, summaries, runs: results.map(simJson) });
  } else {
    process.stdout.write(`${world.description}: ${results.length} bundles × ${opts.episodes} episodes from seed ${opts.seed}${opts.faults ? `, nominal and under ${opts.faults}` : ''}; interquartile mean over bundles, 95 % bootstrap interval\n`);
    printSummaries(summaries, 'per bundle');
    process.stdout.write(`bundles: ${results.map((_, k) => `${k + 1} ${bundles[k]}`).join(', ')}\n`);
  }
  // written after the summary is out: should the file refuse it now, the figures are not lost with it
  if (!opts.marlEval) return;
  addToMarlEvalFile(opts.marlEval, parts.marlEvalLayout(world.id, task, algorithm, runs));
  if (!opts.json) process.stdout.write(`raw data (marl-eval layout): ${opts.marlEval} (${world.id} / ${task} / ${algorithm})\n`);
}

/**
 * One bundle's figures, named as `fleetmind eval` names them: the per-episode team returns and the
 * joint success of its nominal run and, under a plan, of its faulted run, with its retained
 * performance; messages per agent per tick; peer messages left out by the peer checks.
 */
function bundleMetrics(r: CampaignResult): Record<string, number[]> {
  const { nominal, faulted, retained, joint_success: joint } = r.report;
  const metrics: Record<string, number[]> = { return: nominal.episode_team_returns };
  if (joint) metrics.success = [joint.nominal];
  metrics.messages_per_agent_tick = [nominal.messages.per_agent_tick];
  if (faulted) {
    metrics.return_faulted = faulted.episode_team_returns;
    if (joint?.faulted !== null && joint?.faulted !== undefined) metrics.success_faulted = [joint.faulted];
    if (retained !== null) metrics.retained = [retained];
    const checks = faulted.agent_counters?.peerChecks;
    if (checks) metrics.peer_messages_left_out = [checks.inconsistent];
  }
  return metrics;
}

/** Ctrl-C: the first asks the run to stop after the episode in progress, the second quits. */
function whenInterrupted(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    process.stderr.write('\nfleetmind: interrupted: finishing the episode in progress, then reporting what was played (Ctrl-C again to quit now)\n');
  };
  process.on('SIGINT', onInterrupt);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onInterrupt) };
}

/** The run's verdict: warnings for figures that mean nothing, and the exit status the gates ask for. */
function judge(r: CampaignResult, opts: SimCliOptions, lateActionsLimit: number): void {
  const { report } = r;
  const runs = [report.nominal, ...(report.faulted ? [report.faulted] : [])];
  for (const run of runs) {
    const share = run.late_actions / Math.max(1, run.asked_actions);
    if (share > lateActionsLimit) {
      process.stderr.write(`fleetmind: warning: ${(share * 100).toFixed(1)} % of the actions asked for in the ${run === report.nominal ? 'nominal' : 'faulted'} run came too late (${run.late_actions} of ${run.asked_actions}): `
        + `${run.hz ? `--hz ${run.hz} is faster than the agents can answer` : `--tick-timeout-ms ${opts.tickTimeoutMs} is shorter than a decision takes`}, so the returns measure the clock, not the policy\n`);
    }
  }
  if (report.partial) {
    const asked = opts.episodes;
    process.stderr.write(`fleetmind: partial run: interrupted after ${report.nominal.episodes}/${asked} nominal${report.plan ? ` and ${report.faulted?.episodes ?? 0}/${asked} faulted` : ''} episodes${r.files.length ? `; the report says so (partial: true)` : ''}\n`);
    process.exitCode = 130;
    return;
  }
  const failures: string[] = [];
  // most actions missing for want of time: the figures describe the clock, and the run does not pass
  const worst = Math.max(...runs.map((run) => run.late_actions / Math.max(1, run.asked_actions)));
  if (worst > 0.5) failures.push(`${(worst * 100).toFixed(1)} % of the actions came too late: the run measured nothing`);
  if (opts.failUnder !== undefined && report.retained !== null && report.retained < opts.failUnder) {
    failures.push(`retained performance ${(report.retained * 100).toFixed(1)} % is under --fail-under ${(opts.failUnder * 100).toFixed(1)} %`);
  }
  if (opts.requireCriteria) {
    for (const c of report.checklist) if (c.passed === false) failures.push(`criterion not met: ${c.criterion}: ${c.measured} (target ${c.target})`);
  }
  for (const f of failures) process.stderr.write(`fleetmind: sim: ${f}\n`);
  if (failures.length) process.exitCode = EXIT_FAILED;
}

function simJson(r: CampaignResult): Record<string, unknown> {
  const { trace: _trace, episode_outcomes_final: _finals, episode_outcomes_total: _totals, ...run } = r.run;
  const out: Record<string, unknown> = { ...run, partial: r.report.partial };
  if (r.report.faulted) {
    out.nominal = { team_return_mean: r.report.nominal.team_return_mean, episode_team_returns: r.report.nominal.episode_team_returns };
    out.random_team_return_mean = r.report.random_team_return_mean;
    out.retained = r.report.retained;
    out.retained_interval = r.report.retained_interval;
  }
  out.joint_success = r.report.joint_success;
  out.checklist = r.report.checklist;
  if (r.files.length) out.report = r.files;
  return out;
}

function printSim(r: CampaignResult): void {
  const { nominal, faulted, retained } = r.report;
  const runs = faulted ? [['nominal', nominal], [r.report.plan ? 'faulted' : 'rollout', faulted]] as const : [['run', nominal]] as const;
  printTable(['', ...runs.map(([name]) => name)], [
    ['team return (mean)', ...runs.map(([, x]) => x.team_return_mean.toFixed(3))],
    ['agent return (mean)', ...runs.map(([, x]) => x.agent_return_mean.toFixed(3))],
    ...Object.keys(nominal.outcomes).map((k) => [k, ...runs.map(([, x]) => x.outcomes[k].toFixed(3))]),
    ['tiers full/partial/none/safe', ...runs.map(([, x]) => `${x.tiers.full}/${x.tiers.partial}/${x.tiers.none}/${x.tiers.safe}`)],
    [`actions missing (${r.run.missing_action})`, ...runs.map(([, x]) => x.missing_actions)],
    ['  of which late (agent running)', ...runs.map(([, x]) => x.late_actions)],
    ...(nominal.host_stall_ms_max !== null ? [['host stall, longest in a tick (ms)', ...runs.map(([, x]) => x.host_stall_ms_max ?? '—')]] : []),
    ['tick p50 / p99 ms', ...runs.map(([, x]) => `${x.tick_ms.p50} / ${x.tick_ms.p99}`)],
    ['messages per agent per tick (empty ones apart)', ...runs.map(([, x]) => x.messages.per_agent_tick)],
    ['bytes per agent per tick', ...runs.map(([, x]) => x.messages.bytes_per_agent_tick)],
    ...(runs.some(([, x]) => x.messages.out_of_range > 0) ? [['messages lost out of radio range', ...runs.map(([, x]) => x.messages.out_of_range)]] : []),
  ]);
  const joint = r.report.joint_success;
  if (joint) process.stdout.write(`joint success (${joint.description}): ${(joint.nominal * 100).toFixed(1)} % of episodes${joint.faulted !== null ? ` nominal, ${(joint.faulted * 100).toFixed(1)} % faulted` : ''}\n`);
  if (faulted && retained !== null) {
    const [lo, hi] = r.report.retained_interval!;
    process.stdout.write(`retained performance ${(retained * 100).toFixed(1)} % (95 % CI ${(lo * 100).toFixed(1)} to ${(hi * 100).toFixed(1)} % over ${faulted.episodes} episodes; random team return ${r.report.random_team_return_mean.toFixed(2)})\n`);
    process.stdout.write(`faults applied: ${Object.entries(faulted.faults_applied).map(([k, v]) => `${k} ×${v}`).join(', ') || 'none'}\n`);
  }
  for (const [name, run] of runs) {
    const checks = run.agent_counters?.peerChecks;
    if (checks && (checks.checked > 0 || checks.unavailable > 0)) {
      process.stdout.write(`peer checks (${name}): ${checks.inconsistent} of ${checks.checked} peer messages inconsistent and left out; ${checks.quarantined} quarantined, ${checks.released} released${checks.unavailable ? `; unavailable in ${checks.unavailable} decisions (the bundle's messages are not its states)` : ''}\n`);
    }
  }
  if (r.run.rollout) printRollout(r.run.rollout);
  for (const f of r.files) process.stdout.write(`wrote ${f}\n`);
}

function printRollout(r: NonNullable<CampaignResult['run']['rollout']>): void {
  process.stdout.write(`rollout ${r.rollout} of ${r.bundle.name} ${r.bundle.version}: ${r.outcome}${r.abort ? ` (${r.abort.reason})` : ''}\n`);
  for (const s of r.stages) {
    process.stdout.write(`  stage ${s.stage}: ${s.agents.join(', ')}: ${s.failures.length ? `failed: ${s.failures.join('; ')}` : 'passed'}${s.health.length ? ` (${s.health.map((h) => `${h.agent} ${h.decisions} decisions, ${(100 * h.safe_rate).toFixed(1)} % safe, ${(100 * h.full_rate).toFixed(1)} % full`).join('; ')})` : ''}\n`);
  }
  if (r.abort_tick !== null) process.stdout.write(`  aborted at tick ${r.abort_tick}; ${r.rolled_back_tick !== null ? `every agent back on its bundle at tick ${r.rolled_back_tick} (${r.rolled_back_tick - r.abort_tick} ticks)` : 'the fleet was not seen back on its bundles before the run ended'}\n`);
  for (const v of r.versions) process.stdout.write(`  from tick ${v.tick} (episode ${v.episode}): ${Object.entries(v.versions).map(([agent, bundle]) => `${agent} ${bundle}`).join(', ')}\n`);
}
