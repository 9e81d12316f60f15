import type { Command } from 'commander';
import { Option } from 'commander';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveIntList, positiveNumber, worldOption } from '../options.js';
import { resolveWorldId } from '@fleetmind/worlds';
import { printJson, printTable, progressLine } from '../output.js';
import { CliError } from '../errors.js';
import { resolveTrainingConfig, TrainingConfigError, type MappoConfig } from '@fleetmind/trainer/config';

/** the benchmarks load ONNX Runtime, aedes and MQTT clients: only when one runs */
const benches = () => import('@fleetmind/bench');

export function registerBench(program: Command): void {
  const bench = program
    .command('bench')
    .description('measure throughput and latency; with --json every bench prints {bench, started, machine, results}')
    .addHelpText('after', '\nExamples:\n  $ fleetmind bench worlds --json');
  bench
    .command('worlds')
    .description('env-steps/s of a world (simple_spread_v3 unless --world) under random actions, resets included, for each batch size; median of several runs')
    .option('--world <id>', 'the world (see `fleetmind worlds`)', 'simple_spread_v3')
    .option('--world-option <key=value>', 'a world option, repeatable, e.g. difficulty=hard', worldOption)
    .option('--agents <n>', 'simple_spread: agents (and landmarks)', positiveInt, 3)
    .option('--envs <list>', 'comma-separated batch sizes E', positiveIntList, [1, 256])
    .option('--seconds <s>', 'seconds per run', positiveNumber, 1)
    .option('--runs <n>', 'timed runs per case (after one warm-up run)', positiveInt, 5)
    .option('--json', 'print {bench, started, machine, results}; results: an array of {world, agents, envs, env_steps_per_s, runs}')
    .addHelpText('after', '\nExamples:\n  $ fleetmind bench worlds --json\n  $ fleetmind bench worlds --envs 1,64,256,1024 --runs 3\n  $ fleetmind bench worlds --world traffic_junction --world-option difficulty=hard --envs 256')
    .action(async (opts: { world: string; worldOption?: Record<string, unknown>; agents: number; envs: number[]; seconds: number; runs: number; json?: boolean }) => {
      const { benchWorld, runBench } = await benches();
      const world = resolveWorldId(opts.world);
      const report = await runBench('worlds', () => benchWorld({ world, config: opts.worldOption, agents: opts.agents, envCounts: opts.envs, seconds: opts.seconds, runs: opts.runs }));
      if (opts.json) return printJson(report);
      const cases = report.results;
      printTable(
        ['world', 'agents', 'envs', 'env-steps/s (median)'],
        cases.map((c) => [c.world, c.agents, c.envs, c.env_steps_per_s.toLocaleString('en-US')]),
      );
    });

  bench
    .command('remote')
    .description('the remote-world bridge (docs/remote-world-protocol.md): env-steps/s of simple_spread in process and served by fleetmind over TCP and a Unix socket, and of rendezvous_v0 in process and served by the Python reference server (one and two processes); each served step split into the simulator\'s time and the bridge\'s')
    .option('--envs <n>', 'batch size E', positiveInt, 64)
    .option('--seconds <s>', 'seconds per run', positiveNumber, 2)
    .option('--runs <n>', 'timed runs per case (after one warm-up run)', positiveInt, 3)
    .option('--python <path>', 'the Python that runs the reference server', 'python3')
    .option('--json', 'print {bench, started, machine, results}; results: {cases: [{name, world, transport, servers, envs, env_steps_per_s, round_trip_us, server_us, bridge_us, bridge_capacity_env_steps_per_s}], ratios}')
    .addHelpText('after', '\nExamples:\n  $ fleetmind bench remote --json\n  $ fleetmind bench remote --envs 256')
    .action(async (opts: { envs: number; seconds: number; runs: number; python: string; json?: boolean }) => {
      const { benchRemoteWorld, runBench } = await benches();
      const progress = progressLine();
      const report = await runBench('remote', () => benchRemoteWorld({ envs: opts.envs, seconds: opts.seconds, runs: opts.runs, python: opts.python, onProgress: progress }));
      progress('');
      if (opts.json) return printJson(report);
      const us = (v: number | null) => (v === null ? '' : v.toLocaleString('en-US'));
      printTable(['case', 'env-steps/s', 'step µs', 'simulator µs', 'bridge µs', 'bridge capacity'], report.results.cases.map((c) => [
        c.name, c.env_steps_per_s.toLocaleString('en-US'), us(c.round_trip_us), us(c.server_us), us(c.bridge_us), us(c.bridge_capacity_env_steps_per_s),
      ]));
      for (const [k, v] of Object.entries(report.results.ratios)) process.stdout.write(`${k.replace(/_/g, ' ')}: ×${v.toFixed(2)}\n`);
    });

  const zoo = fileURLToPath(new URL('../../../models/zoo/', import.meta.url));
  const benchBundles = fileURLToPath(new URL('../../../bench/bundles/', import.meta.url));
  bench
    .command('runtime')
    .description('the edge runtime: one ONNX Runtime call (MLP actor, batch 1), the observation-to-action tick of a CommNet fleet exchanging messages through the fleetmind broker (own process, loopback), one agent process\'s resident memory, one peer message\'s bytes')
    .option('--bundle <dir>', 'CommNet bundle whose agents form the fleet', join(benchBundles, 'spread10-commnet'))
    .option('--mlp-bundle <dir>', 'MLP bundle for the ONNX Runtime call', join(zoo, 'spread-mlp'))
    .option('--continuous-bundle <dir>', 'an MLP bundle with continuous actions, its call measured beside the discrete one (same hidden sizes)', join(zoo, 'spread-continuous-mlp'))
    .option('--recurrent-bundle <dir>', 'a recurrent (GRU) bundle, its call (state fed, next state fetched) measured beside the MLP\'s', join(zoo, 'spread-gru'))
    .option('--ticks <n>', 'fleet ticks measured (after 20 warm-up ticks)', positiveInt, 400)
    .option('--broker <url>', 'use this broker for the fleet (e.g. mqtt://127.0.0.1:1883 for Mosquitto) instead of the fleetmind broker in a child process')
    .option('--record <dir>', 'turn every agent\'s flight recorder on, writing to <dir> (an empty folder): what recording costs, and its bytes per agent per tick')
    .addOption(new Option('--connections <kind>', 'the fleet\'s agents: per-agent, each its own MQTT connection, as robots have; shared: one for the process (runtime sharedConnections)').choices(['per-agent', 'shared']).default('per-agent'))
    .addOption(new Option('--inference <kind>', 'the fleet\'s agents: per-agent, each its own ONNX Runtime calls; batched: the calls of one turn of the event loop as one batch (runtime batchedInference)').choices(['per-agent', 'batched']).default('per-agent'))
    .option('--json', 'print {bench, started, machine, results}; results: {ort_call_us, ort_call_us_identity, ort_call_us_continuous, ort_call_us_recurrent, tick_ms, gc, cpu_ms_per_tick, recording, rss_mib, msg_bytes}')
    .addHelpText('after', '\nExamples:\n  $ fleetmind bench runtime --json\n  $ fleetmind bench runtime --bundle models/zoo/spread-commnet --ticks 1000\n  $ fleetmind bench runtime --record /tmp/bench-recording --json\n  $ fleetmind bench runtime --connections shared --inference batched')
    .action(async (opts: { bundle: string; mlpBundle: string; continuousBundle: string; recurrentBundle: string; ticks: number; broker?: string; record?: string; connections: 'per-agent' | 'shared'; inference: 'per-agent' | 'batched'; json?: boolean }) => {
      if (opts.record && existsSync(opts.record) && readdirSync(opts.record).length > 0) throw new CliError(`--record: ${opts.record} is not empty (the bench measures the bytes it writes there)`);
      for (const dir of [opts.bundle, opts.mlpBundle]) if (!existsSync(join(dir, 'manifest.json'))) throw new CliError(`${dir} is not a bundle folder (no manifest.json)`);
      const progress = progressLine();
      const { benchRuntime, runBench } = await benches();
      const bench = await runBench('runtime', () => benchRuntime({ bundle: opts.bundle, mlpBundle: opts.mlpBundle, continuousBundle: opts.continuousBundle, recurrentBundle: opts.recurrentBundle, ticks: opts.ticks, brokerUrl: opts.broker, record: opts.record, connections: opts.connections, inference: opts.inference, onProgress: progress }));
      progress('');
      if (opts.json) return printJson(bench);
      const report = bench.results;
      printTable(['measure', 'value', 'goal'], [
        ['ONNX Runtime call p50 / p99', `${report.ort_call_us.p50} / ${report.ort_call_us.p99} µs`, 'p50 ≤ 15 µs'],
        ['identity graph call p50 (actor ÷ identity)', `${report.ort_call_us_identity.p50} µs (×${report.ort_call_us_identity.actor_p50_ratio})`, '≤ ×1.5'],
        [`tick, ${report.tick_ms.agents} agents, ${report.tick_ms.rounds} round(s), ${report.tick_ms.connections} connections, ${report.tick_ms.inference} inference, p50 / p99`, `${report.tick_ms.p50} / ${report.tick_ms.p99} ms`, 'p99 ≤ 5 ms'],
        ['ticks with full communication', `${(report.tick_ms.full_ratio * 100).toFixed(1)} %`, ''],
        ['CPU per fleet tick (agents, this process)', `${report.cpu_ms_per_tick} ms`, ''],
        ['garbage collections over those ticks: scavenges (p50 / max ms), major (max ms)', `${report.gc.scavenges} (${report.gc.scavenge_ms_p50 ?? '–'} / ${report.gc.scavenge_ms_max ?? '–'}), ${report.gc.major} (${report.gc.major_ms_max ?? '–'})`, ''],
        ...(report.recording ? [['recording per agent per tick', `${report.recording.bytes_per_agent_tick} bytes`, '≤ 1 KB']] : []),
        ['agent process RSS', `${report.rss_mib} MiB`, '≤ 110 MiB'],
        ['peer message', `${report.msg_bytes} bytes`, '≤ 96 bytes (int8, hidden 64)'],
      ]);
    });

  bench
    .command('training')
    .description('what threads gain a MAPPO/IPPO run (`train --workers K`): the same run three times, each in a fresh process, side by side — its gradient in one part on one thread (the default), in K parts on one thread, and in K parts on K threads — with the wall time, the loop\'s update and acting seconds, and whether the last two trained identical weights (they must)')
    .option('--world <id>', 'the world (see `fleetmind worlds`)', 'simple_spread_v3')
    .option('--continuous', 'the world\'s continuous actions (the MPE worlds)')
    .option('--world-option <key=value>', 'a world option, repeatable, e.g. difficulty=hard', worldOption)
    .addOption(new Option('--algo <name>', 'mappo or ippo').choices(['mappo', 'ippo']).default('mappo'))
    .option('--set <key=value>', 'a training setting, as `train --set` (repeatable), e.g. --set hidden=[128,128]', worldOption)
    .option('--steps <n>', 'env steps of each run: the work measured', positiveInt, 320_000)
    .option('--workers <k>', 'threads (and parts) of the parallel runs', positiveInt, 2)
    .option('--seed <s>', 'seed of every run', nonNegativeInt, 1)
    .option('--runs <n>', 'rounds of the three runs, alternated; medians reported', positiveInt, 1)
    .option('--json', 'print {bench, started, machine, results}; results: {world, algo, actor, hidden, steps, cases: [{parts, threads, wall_s, update_s, act_s, env_steps_per_s, runs_wall_s, last_return, weights_sha256}], same_weights, ratios}')
    .addHelpText('after', '\nExamples:\n  $ fleetmind bench training --continuous --json\n  $ fleetmind bench training --continuous --set epochs=2 --set hidden=[128,128] --set criticHidden=[64,64]\n  $ fleetmind bench training --world traffic_junction --world-option difficulty=hard --set actor=commnet --set entropyCoef=0.03 --steps 32000')
    .action(async (opts: { world: string; continuous?: boolean; worldOption?: Record<string, unknown>; algo: 'mappo' | 'ippo'; set?: Record<string, unknown>; steps: number; workers: number; seed: number; runs: number; json?: boolean }) => {
      if (opts.workers < 2) throw new CliError('--workers: the parallel runs need 2 threads or more');
      let config: MappoConfig;
      try {
        const worldConfig = { ...opts.worldOption, ...(opts.continuous ? { continuousActions: true } : {}) };
        config = resolveTrainingConfig({ ...opts.set, algo: opts.algo, world: resolveWorldId(opts.world), worldConfig, totalSteps: opts.steps, seed: opts.seed }) as MappoConfig;
      } catch (err) {
        throw err instanceof TrainingConfigError ? new CliError(`--set: ${err.message}`) : err;
      }
      const progress = progressLine();
      const { benchTraining, runBench } = await benches();
      const bench = await runBench('training', () => benchTraining({ config, workers: opts.workers, runs: opts.runs, onProgress: progress }));
      progress('');
      if (opts.json) return printJson(bench);
      const r = bench.results;
      printTable(['gradient', 'wall s', 'updates s', 'acting s', 'env-steps/s', 'last return'], r.cases.map((c) => [
        `${c.parts} part${c.parts > 1 ? 's' : ''} on ${c.threads} thread${c.threads > 1 ? 's' : ''}`, c.wall_s, c.update_s, c.act_s, c.env_steps_per_s.toLocaleString('en-US'), c.last_return.toFixed(3),
      ]));
      process.stdout.write(`${r.steps.toLocaleString('en-US')} steps of ${r.algo} (${r.actor} ${r.hidden.join(' × ')}) on ${r.world}: ×${r.ratios.one_part_vs_threads} against one part on one thread, ×${r.ratios.parts_on_one_thread_vs_threads} against the same parts on one thread; weights ${r.same_weights ? 'identical' : 'DIFFERENT'} with ${r.cases[2].threads} threads and with one\n`);
      if (!r.same_weights) process.exitCode = 1;
    });

  bench
    .command('rollout')
    .description('what an over-the-air rollout costs a fleet running in real time: N agents with bundle stores on the embedded broker, first without a rollout; then a candidate padded to --bundle-mb goes to everyone (the time from the plan to every agent on it, and the rounds inside their deadline meanwhile), then a bad canary is aborted (the time from the failed gate to every agent back on its bundle)')
    .option('--bundle <dir>', 'one-role CommNet bundle trained on k-nearest observations without agent ids', join(benchBundles, 'spread-nearest3-commnet'))
    .option('--agents <n>', 'fleet size', positiveInt, 10)
    .option('--hz <f>', 'world rate', positiveNumber, 10)
    .option('--bundle-mb <mb>', 'the candidate\'s size, MB (padded with a pinned file)', positiveNumber, 1)
    .option('--episodes <n>', 'episodes per run (25 ticks each): enough for the rollout to finish', positiveInt, 12)
    .option('--json', 'print {bench, started, machine, results}')
    .addHelpText('after', '\nExamples:\n  $ fleetmind bench rollout --agents 10 --json\n  $ fleetmind bench rollout --agents 100 --bundle-mb 1 --episodes 24')
    .action(async (opts: { bundle: string; agents: number; hz: number; bundleMb: number; episodes: number; json?: boolean }) => {
      if (!existsSync(join(opts.bundle, 'manifest.json'))) throw new CliError(`${opts.bundle} is not a bundle folder (no manifest.json)`);
      const progress = progressLine();
      const { benchRollout, runBench } = await benches();
      const bench = await runBench('rollout', () => benchRollout({ bundle: opts.bundle, agents: opts.agents, hz: opts.hz, bundleMb: opts.bundleMb, episodes: opts.episodes, onProgress: progress }));
      progress('');
      if (opts.json) return printJson(bench);
      const r = bench.results;
      process.stdout.write(`${r.agents} agents at ${r.hz} Hz, a ${(r.bundle_bytes / 2 ** 20).toFixed(2)} MB bundle\n`);
      process.stdout.write(`without a rollout: rounds in deadline ${(100 * r.nominal.rounds_in_deadline_ratio).toFixed(2)} %; late decisions ${(100 * r.nominal.late_actions_ratio).toFixed(2)} %\n`);
      process.stdout.write(`distribute to everyone: ${r.distribute.outcome}; plan to every agent on it ${r.distribute.plan_to_all_switched_ms ?? '—'} ms; rounds in deadline ${(100 * r.distribute.rounds_in_deadline_ratio).toFixed(2)} %; late decisions ${(100 * r.distribute.late_actions_ratio).toFixed(2)} %\n`);
      process.stdout.write(`abort a bad canary: ${r.abort.outcome}; back on the old bundle ${r.abort.rolled_back_ms ?? '—'} ms (${r.abort.rolled_back_ticks ?? '—'} ticks) after the failed gate\n`);
    });

  bench
    .command('fleet')
    .description('how large a fleet runs in real time on this machine: N runtime agents in this process, the fleetmind broker in a child process, a large simple_spread world with k-nearest observations and neighbour topics, stepped at --hz; reports the share of communication rounds complete inside their deadline')
    .option('--bundle <dir>', 'one-role CommNet bundle trained on k-nearest observations without agent ids', join(benchBundles, 'spread-nearest3-commnet'))
    .option('--agents <list>', 'comma-separated fleet sizes', positiveIntList, [100, 250, 500])
    .option('--hz <f>', 'world rate', positiveNumber, 10)
    .option('--seconds <s>', 'measured seconds per fleet size', positiveNumber, 10)
    .option('--warmup-seconds <s>', 'seconds played first and not counted (code not yet optimized, first buffers): what they missed is reported apart (--shards counts from the first tick)', nonNegativeNumber, 1)
    .option('--round-deadline-ms <ms>', 'the agents\' round deadline', positiveNumber, 50)
    .option('--heartbeat-ms <ms>', 'the agents\' heartbeat period (peer timeout: four periods)', positiveNumber, 500)
    .option('--rollout-mb <mb>', 'an over-the-air rollout during the measured seconds: the same policy under a new version, padded to this many MB, sent to every agent one second in (agents get bundle stores); reports the time from the plan to every agent on it', positiveNumber)
    .option('--rollout-spread-ms <ms>', 'the rollout\'s spread: each agent starts its download after a random delay up to this', nonNegativeInt, 0)
    .addOption(new Option('--connections <kind>', 'per-agent: each agent its own MQTT connection, as robots have; shared: the process\'s agents on one connection (runtime sharedConnections), the broker sending each message once to the process').choices(['per-agent', 'shared']).default('per-agent'))
    .addOption(new Option('--inference <kind>', 'per-agent: each agent its own ONNX Runtime calls, as robots have; batched: the calls the process\'s agents make in one turn of the event loop run as one batch (runtime batchedInference; discrete policies)').choices(['per-agent', 'batched']).default('per-agent'))
    .option('--shards <list>', 'instead: the agents in K shard processes (sim --shards K), the world in this one over the broker, for each K listed (e.g. 1,2): decisions per second, missing decisions, rounds in deadline, and CPU µs per decision in the world, each shard and the broker', positiveIntList)
    .option('--json', 'print {bench, started, machine, results}; results: an array, one object per fleet size (and shard count)')
    .addHelpText('after', '\nExamples:\n  $ fleetmind bench fleet --agents 500 --json\n  $ fleetmind bench fleet --agents 50,100,200 --seconds 5\n  $ fleetmind bench fleet --agents 200 --shards 1,2 --json')
    .action(async (opts: { bundle: string; agents: number[]; hz: number; seconds: number; warmupSeconds: number; roundDeadlineMs: number; heartbeatMs: number; rolloutMb?: number; rolloutSpreadMs: number; connections: 'per-agent' | 'shared'; inference: 'per-agent' | 'batched'; shards?: number[]; json?: boolean }, cmd: Command) => {
      if (!existsSync(join(opts.bundle, 'manifest.json'))) throw new CliError(`${opts.bundle} is not a bundle folder (no manifest.json)`);
      const progress = progressLine();
      if (opts.shards) {
        if (opts.rolloutMb !== undefined) throw new CliError('--shards and --rollout-mb: a rollout is measured in one process only');
        if (cmd.getOptionValueSource('warmupSeconds') === 'cli') throw new CliError('--shards and --warmup-seconds: the sharded bench counts from its first tick');
        const { benchFleetShards, runBench } = await benches();
        const bench = await runBench('fleet-shards', async () => {
          const reports = [];
          for (const agents of opts.agents) {
            for (const shards of opts.shards!) {
              progress(`${agents} agents in ${shards} shards`);
              reports.push(await benchFleetShards({ bundle: opts.bundle, agents, shards, hz: opts.hz, seconds: opts.seconds, roundDeadlineMs: opts.roundDeadlineMs, heartbeatMs: opts.heartbeatMs }));
            }
          }
          return reports;
        });
        progress('');
        if (opts.json) return printJson(bench);
        printTable(['agents', 'shards', 'Hz', 'decisions/s', 'decisions missing', 'rounds in deadline', 'CPU µs/decision world / shards / broker / all'], bench.results.map((r) => [
          r.agents, r.shards, r.hz, r.decisions_per_s, `${(r.decisions_missing_ratio * 100).toFixed(2)} %`, `${(r.rounds_in_deadline_ratio * 100).toFixed(2)} %`,
          `${r.cpu_us_per_decision.world} / ${r.cpu_us_per_decision.shards.join(' + ')} / ${r.cpu_us_per_decision.broker ?? '—'} / ${r.cpu_us_per_decision.all ?? '—'}`,
        ]));
        return;
      }
      const { benchFleetScale, runBench } = await benches();
      const bench = await runBench('fleet', async () => {
        const reports = [];
        for (const agents of opts.agents) {
          reports.push(await benchFleetScale({ bundle: opts.bundle, agents, hz: opts.hz, seconds: opts.seconds, warmupSeconds: opts.warmupSeconds, roundDeadlineMs: opts.roundDeadlineMs, heartbeatMs: opts.heartbeatMs, rolloutMb: opts.rolloutMb, rolloutSpreadMs: opts.rolloutSpreadMs, connections: opts.connections, inference: opts.inference, onProgress: (l) => progress(`${agents} agents: ${l}`) }));
        }
        return reports;
      });
      progress('');
      if (opts.json) return printJson(bench);
      const reports = bench.results;
      printTable(['agents', 'connections', 'inference (mean batch)', 'k', 'Hz', 'rounds in deadline', 'decisions missing (in the warm-up)', 'tiers full/partial/none/safe', 'world step p50/p99 ms', 'loop lag p99 ms', 'CPU µs/decision agents + world / broker'], reports.map((r) => [
        r.agents, r.connections, r.mean_batch === null ? r.inference : `${r.inference} (${r.mean_batch})`, r.neighbours, r.hz, `${(r.rounds_in_deadline_ratio * 100).toFixed(2)} %`, `${(r.decisions_missing_ratio * 100).toFixed(2)} % (${(r.warmup.decisions_missing_ratio * 100).toFixed(2)} % of ${r.warmup.ticks} ticks)`,
        `${r.tiers.full}/${r.tiers.partial}/${r.tiers.none}/${r.tiers.safe}`, `${r.world_step_ms.p50} / ${r.world_step_ms.p99}`, r.event_loop_lag_ms.p99,
        `${r.cpu_us_per_decision.agents} + ${r.cpu_us_per_decision.world} / ${r.cpu_us_per_decision.broker ?? '—'}`,
      ]));
      for (const r of reports) if (r.rollout) process.stdout.write(`${r.agents} agents: a ${(r.rollout.bundle_bytes / 2 ** 20).toFixed(2)} MB rollout in ${r.rollout.chunks} chunks; ${r.rollout.switched}/${r.agents} agents switched${r.rollout.plan_to_all_switched_ms === null ? ' before the run ended' : `, the last ${r.rollout.plan_to_all_switched_ms} ms after the plan`}\n`);
    });

  bench
    .command('broker')
    .description('the fleetmind broker (auth + ACLs on), bare aedes and Mosquitto (127.0.0.1:1883, if running), each in its own process, measured by the same clients: round trip, fan-out, and a fleet of agents at 10 Hz on 4-neighbour topics; with ratios')
    .addOption(new Option('--targets <list>', 'comma-separated brokers').default('fleetmind,aedes,mosquitto'))
    .option('--agents <n>', 'fleet size', positiveInt, 500)
    .option('--hz <f>', 'fleet message rate per agent', positiveNumber, 10)
    .option('--seconds <s>', 'fleet measurement window', positiveNumber, 5)
    .option('--rtt-samples <n>', 'round trips timed per round', positiveInt, 2000)
    .option('--fanout-subscribers <n>', 'subscribers of the fan-out topic', positiveInt, 50)
    .option('--fanout-messages <n>', 'messages published to them per round', positiveInt, 2000)
    .option('--rounds <n>', 'interleaved rounds of round trip and fan-out (medians reported)', positiveInt, 3)
    .option('--json', 'print {bench, started, machine, results}; results: {targets: {fleetmind, aedes, mosquitto}, ratios, skipped}')
    .addHelpText('after', '\nExamples:\n  $ fleetmind bench broker --json\n  $ fleetmind bench broker --targets fleetmind,aedes --agents 200')
    .action(async (opts: { targets: string; agents: number; hz: number; seconds: number; rttSamples: number; fanoutSubscribers: number; fanoutMessages: number; rounds: number; json?: boolean }) => {
      const targets = opts.targets.split(',').map((t) => t.trim());
      const unknown = targets.filter((t) => !['fleetmind', 'aedes', 'mosquitto'].includes(t));
      if (unknown.length) throw new CliError(`--targets: unknown broker ${unknown.join(', ')} (fleetmind, aedes, mosquitto)`);
      const progress = progressLine();
      const { benchBroker, runBench } = await benches();
      const bench = await runBench('broker', () => benchBroker({
        targets: targets as ('fleetmind' | 'aedes' | 'mosquitto')[],
        fleetAgents: opts.agents, fleetHz: opts.hz, fleetSeconds: opts.seconds, rttSamples: opts.rttSamples, fanOutSubscribers: opts.fanoutSubscribers, fanOutMessages: opts.fanoutMessages, rounds: opts.rounds,
        onProgress: progress,
      }));
      progress('');
      if (opts.json) return printJson(bench);
      const report = bench.results;
      printTable(
        ['broker', 'rtt p50 ms', 'rtt p99 ms', 'fan-out msg/s', `fleet ${opts.agents}@${opts.hz}Hz delivered`, 'fleet p50 ms', 'fleet p99 ms'],
        Object.entries(report.targets).map(([k, v]) => [k, v.rtt_ms.p50, v.rtt_ms.p99, v.fanout_msgs_per_s, `${(v.fleet.delivered_ratio * 100).toFixed(2)} %`, v.fleet.latency_ms.p50, v.fleet.latency_ms.p99]),
      );
      const o = report.overhead_vs_aedes;
      if (o) process.stdout.write(`auth + ACL overhead over bare aedes (one process, round trip p50): ${o.fleetmind_rtt_p50_us} µs vs ${o.aedes_rtt_p50_us} µs = ×${o.ratio}\n`);
      for (const [name, r] of Object.entries(report.ratios)) process.stdout.write(`${name}: rtt p50 ×${r.rtt_p50}, rtt p99 ×${r.rtt_p99}, fan-out ×${r.fanout_msgs_per_s}, fleet p99 ×${r.fleet_p99}\n`);
      for (const s of report.skipped) process.stdout.write(`skipped ${s}\n`);
    });

  bench
    .command('overload')
    .description('the aedes overload crash and the fleetmind broker surviving it: 500 clients at 10 Hz on one shared topic, then all leave at once; bare aedes and the fleetmind broker each in a child process (about a minute)')
    .option('--json', 'print {bench, started, machine, results}; results: {clients, hz, seconds, results: [{broker, crashed, exit_code, error, serves_afterwards}]}')
    .addHelpText('after', '\nExamples:\n  $ fleetmind bench overload --json')
    .action(async (opts: { json?: boolean }) => {
      const progress = progressLine();
      const { benchBrokerOverload, runBench } = await benches();
      const bench = await runBench('overload', () => benchBrokerOverload(progress));
      progress('');
      if (opts.json) return printJson(bench);
      printTable(['broker', 'crashed', 'error', 'serves afterwards'], bench.results.results.map((r) => [r.broker, r.crashed ? 'yes' : 'no', r.error ?? '-', r.serves_afterwards ? 'yes' : 'no']));
    });

  bench
    .command('fuzz')
    .description('seeded fuzzing: --target broker sends malformed and mutated MQTT packets to the fleetmind broker (own process) while two healthy clients keep round trips with a deadline; --target fleet sends mutated protobuf payloads on every topic of a live 10-agent fleet at --hz')
    .addOption(new Option('--target <what>', 'the broker, or a live fleet').choices(['broker', 'fleet']).default('broker'))
    .option('--packets <n>', 'broker: frames to send (default 1,000,000); fleet: payloads (default 100,000)', positiveInt)
    .option('--seed <s>', 'seed of the mutations', nonNegativeInt, 1)
    .option('--bundle <dir>', 'fleet: the CommNet bundle whose agents form the fleet', join(benchBundles, 'spread10-commnet'))
    .option('--control', 'fleet: the same run with the hostile client silent (as many periods, nothing sent): the baseline the attack is judged against')
    .option('--json', 'print {bench, started, machine, results}')
    .addHelpText('after', '\nExamples:\n  $ fleetmind bench fuzz --target broker --packets 1000000 --json\n  $ fleetmind bench fuzz --target fleet --packets 100000\n  $ fleetmind bench fuzz --target fleet --packets 5000 --control --json')
    .action(async (opts: { target: 'broker' | 'fleet'; packets?: number; seed: number; bundle: string; control?: boolean; json?: boolean }) => {
      const progress = progressLine();
      const { fuzzBroker, fuzzFleet, runBench } = await benches();
      if (opts.target === 'broker') {
        if (opts.control) throw new CliError('--control is for --target fleet (the broker fuzz times healthy clients beside the attack already)');
        const bench = await runBench('fuzz-broker', () => fuzzBroker({ packets: opts.packets, seed: opts.seed, onProgress: progress }));
        progress('');
        if (opts.json) return printJson(bench);
        const r = bench.results;
        printTable(['frames', 'connections', 'closed by the broker', 'crashes', 'broker RSS start/peak/end MiB', `healthy round trips within ${r.healthy.deadline_ms} ms`, 'healthy p50/p99 ms'], [[
          r.packets, r.connections, r.closed_by_broker, r.crashes, `${r.broker_rss_mib.start} / ${r.broker_rss_mib.peak} / ${r.broker_rss_mib.end}`,
          `${(r.healthy.within_deadline_ratio * 100).toFixed(2)} % of ${r.healthy.round_trips}`, `${r.healthy.p50_ms} / ${r.healthy.p99_ms}`,
        ]]);
        return;
      }
      if (!existsSync(join(opts.bundle, 'manifest.json'))) throw new CliError(`${opts.bundle} is not a bundle folder (no manifest.json)`);
      const bench = await runBench('fuzz-fleet', () => fuzzFleet({ bundle: opts.bundle, payloads: opts.packets, seed: opts.seed, hostile: !opts.control, onProgress: progress }));
      progress('');
      if (opts.json) return printJson(bench);
      const r = bench.results;
      printTable([opts.control ? 'payloads (not sent)' : 'payloads', 'agents', 'decisions made / periods', 'worst agent', 'round deadlines missed', 'refusals by reason'], [[
        r.payloads, r.agents, `${r.decisions.made} / ${r.decisions.expected}`, `${(r.decisions.min_agent_ratio * 100).toFixed(1)} %`, r.deadline_misses,
        Object.entries(r.refusals).map(([k, v]) => `${k} ${v}`).join(', '),
      ]]);
    });

  bench
    .command('soak')
    .description('a fleet at --hz for --minutes over the fleetmind broker (own process) while faults cycle phase by phase (nominal, loss, partition, crashes with restarts, a broker restart, hostile garbage): per minute the rounds inside their deadline, missed decisions, reconnections, and the memory of agents and broker; growth over the second half shows a leak')
    .requiredOption('--minutes <m>', 'how long', positiveNumber)
    .option('--agents <n>', 'fleet size', positiveInt, 50)
    .option('--hz <f>', 'decision rate', positiveNumber, 10)
    .option('--phase-seconds <s>', 'how long each phase of the fault cycle lasts', positiveNumber, 30)
    .option('--bundle <dir>', 'one-role CommNet bundle without agent ids (resized to the fleet)', join(benchBundles, 'spread-nearest3-commnet'))
    .option('--json', 'print {bench, started, machine, results}')
    .addHelpText('after', '\nExamples:\n  $ fleetmind bench soak --minutes 30 --json\n  $ fleetmind bench soak --minutes 1 --agents 20 --phase-seconds 10')
    .action(async (opts: { minutes: number; agents: number; hz: number; phaseSeconds: number; bundle: string; json?: boolean }) => {
      if (!existsSync(join(opts.bundle, 'manifest.json'))) throw new CliError(`${opts.bundle} is not a bundle folder (no manifest.json)`);
      const progress = progressLine();
      const { benchSoak, runBench } = await benches();
      const bench = await runBench('soak', () => benchSoak({ bundle: opts.bundle, minutes: opts.minutes, agents: opts.agents, hz: opts.hz, phaseSeconds: opts.phaseSeconds, onProgress: progress }));
      progress('');
      if (opts.json) return printJson(bench);
      const r = bench.results;
      printTable(['minute', 'phases', 'rounds in deadline', 'decisions missing', 'reconnects', 'agents RSS / heap MiB', 'broker RSS MiB'], r.per_minute.map((m) => [
        m.minute, m.phases.join(','), `${(m.rounds_in_deadline_ratio * 100).toFixed(2)} %`, `${(m.decisions_missing_ratio * 100).toFixed(2)} %`, m.reconnects,
        `${m.agents_rss_mib} / ${m.agents_heap_mib}`, m.broker_rss_mib,
      ]));
      process.stdout.write(`growth over the second half: agents RSS ${r.second_half_growth_pct.agents_rss} %, heap ${r.second_half_growth_pct.agents_heap} %, broker RSS ${r.second_half_growth_pct.broker_rss} %\n`);
    });
}
