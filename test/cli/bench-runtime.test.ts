import t from 'tap';
import { spawnSync } from 'node:child_process';
import { runCli } from '../helpers/cli.js';
import { CLI_MAIN, REPO_ROOT } from '../helpers/paths.js';

t.test('fleetmind bench runtime --json reports the four figures, measured on a 10-agent fleet (here on one connection, its graph calls batched)', (t) => {
  const r = runCli(['bench', 'runtime', '--ticks', '30', '--connections', 'shared', '--inference', 'batched', '--json']);
  t.equal(r.code, 0, r.stderr);
  const envelope = JSON.parse(r.stdout);
  t.match(envelope, { bench: 'runtime', started: String, machine: { cpus: Number, node: String } }, 'the one benchmark JSON shape');
  t.same(envelope.machine.node_flags, [], '`node cli/dist/main.js` starts node with no options');
  const report = envelope.results;
  t.ok(report.ort_call_us.p50 > 0 && report.ort_call_us.p99 >= report.ort_call_us.p50, 'ONNX Runtime call percentiles');
  const identity = report.ort_call_us_identity;
  t.ok(identity.p50 > 0 && identity.calls === report.ort_call_us.calls, 'the identity graph is called as often, in the same blocks');
  t.equal(identity.actor_p50_ratio, Number((report.ort_call_us.p50 / identity.p50).toFixed(3)), 'the ratio is actor over identity');
  const recurrent = report.ort_call_us_recurrent;
  t.match(recurrent, { bundle: /spread-gru$/, calls: report.ort_call_us.calls }, 'the zoo\'s GRU actor, state in and out, in the same blocks');
  t.equal(recurrent.p50_ratio, Number((recurrent.p50 / report.ort_call_us.p50).toFixed(3)), 'its ratio is over the MLP\'s');
  t.match(report.tick_ms, { agents: 10, rounds: 1, ticks: 300, connections: 'shared', inference: 'batched' });
  t.equal(report.tick_ms.full_ratio, 1, 'with nothing failing, every tick had full communication');
  t.ok(report.tick_ms.p99 >= report.tick_ms.p50 && report.tick_ms.p50 > 0);
  const gc = report.gc;
  t.equal(gc.fleet_ticks, 30, 'garbage collections over the measured fleet ticks');
  t.ok(Number.isInteger(gc.scavenges) && Number.isInteger(gc.major), JSON.stringify(gc));
  t.ok(gc.scavenges === 0 ? gc.scavenge_ms_p50 === null : gc.scavenge_ms_p50 > 0 && gc.scavenge_ms_max >= gc.scavenge_ms_p50, 'a pause for each kind that happened, none for one that did not');
  t.ok(report.rss_mib > 30 && report.rss_mib < 1024, `an agent process's RSS: ${report.rss_mib} MiB`);
  t.ok(report.msg_bytes > 64 && report.msg_bytes < 128, `an int8 message of 64 values: ${report.msg_bytes} bytes`);
  t.end();
});

t.test('fleetmind bench fleet refuses a warm-up the sharded variant would not play', (t) => {
  const r = runCli(['bench', 'fleet', '--agents', '12', '--shards', '1', '--warmup-seconds', '2']);
  t.equal(r.code, 2);
  t.match(r.stderr, /--shards and --warmup-seconds: the sharded bench counts from its first tick/);
  t.end();
});

t.test('fleetmind bench runtime refuses a folder that is not a bundle', (t) => {
  const r = runCli(['bench', 'runtime', '--bundle', '/nonexistent']);
  t.equal(r.code, 2);
  t.match(r.stderr, /is not a bundle folder/);
  t.end();
});

t.test('fleetmind bench fleet --json: a resized fleet on neighbour topics, rounds inside their deadline counted', (t) => {
  // run as the installed executable is: its first line asks node for a larger young generation
  const r = spawnSync(CLI_MAIN, ['bench', 'fleet', '--agents', '20', '--seconds', '1', '--json'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  t.equal(r.status, 0, r.stderr);
  const envelope = JSON.parse(r.stdout);
  t.equal(envelope.bench, 'fleet');
  t.same(envelope.machine.node_flags, ['--max-semi-space-size=64'], 'the report says how node was started: the executable\'s young-generation size');
  const [report] = envelope.results;
  t.match(report, { agents: 20, neighbours: 3, hz: 10, ticks: 10, connections: 'per-agent', inference: 'per-agent', mean_batch: null });
  t.equal(report.warmup.ticks, 10, 'a second of ticks played first, not counted');
  t.ok(report.warmup.decisions_missing_ratio >= 0 && report.warmup.decisions_missing_ratio <= 1);
  t.ok(report.rounds >= 150, `${report.rounds} rounds`);
  t.ok(report.rounds_in_deadline_ratio > 0 && report.rounds_in_deadline_ratio <= 1);
  t.equal(Object.values(report.tiers as Record<string, number>).reduce((a, b) => a + b, 0) + Math.round(report.decisions_missing_ratio * 200), 200, 'every decision counted once');
  const cpu = report.cpu_us_per_decision;
  // 200 decisions in a second of two processes: each costs some CPU, and less than the whole second
  t.ok(cpu.agents_and_world > 0 && cpu.broker > 0 && cpu.agents_and_world < 1e6 / 200 * 2, `CPU µs per decision: ${JSON.stringify(cpu)}`);
  // each figure is rounded to 0.1 µs on its own
  t.ok(Math.abs(cpu.all - (cpu.agents_and_world + cpu.broker)) <= 0.1 + 1e-9, 'all = agents and world + broker');
  t.ok(cpu.world > 0 && cpu.agents > 0 && Math.abs(cpu.agents + cpu.world - cpu.agents_and_world) <= 0.1 + 1e-9, `the process's share split between the world's steps and the agents: ${JSON.stringify(cpu)}`);
  t.end();
});

t.test('fleetmind bench fleet --connections shared --inference batched: the same fleet, its graph calls shared', (t) => {
  const r = runCli(['bench', 'fleet', '--agents', '20', '--seconds', '1', '--connections', 'shared', '--inference', 'batched', '--json']);
  t.equal(r.code, 0, r.stderr);
  const [report] = JSON.parse(r.stdout).results;
  t.match(report, { agents: 20, connections: 'shared', inference: 'batched' });
  t.ok(report.rounds >= 150, `${report.rounds} rounds`);
  t.ok(report.mean_batch > 1, `agents' calls per graph call: ${report.mean_batch}`);
  t.end();
});

t.test('fleetmind bench fleet --shards: the agents in shard processes, the world over the broker, CPU per decision in each', (t) => {
  const r = runCli(['bench', 'fleet', '--agents', '12', '--shards', '2', '--seconds', '2.5', '--json']);
  t.equal(r.code, 0, r.stderr);
  const envelope = JSON.parse(r.stdout);
  t.equal(envelope.bench, 'fleet-shards');
  const [report] = envelope.results;
  t.match(report, { agents: 12, shards: 2, hz: 10, ticks: 25 });
  t.equal(Object.values(report.tiers as Record<string, number>).reduce((a, b) => a + b, 0) + Math.round(report.decisions_missing_ratio * 300), 300, 'every decision counted once');
  t.ok(report.decisions_per_s > 0 && report.decisions_per_s <= 120, `${report.decisions_per_s} decisions/s of at most 120`);
  t.ok(report.rounds_in_deadline_ratio > 0 && report.rounds_in_deadline_ratio <= 1, 'rounds counted by the shards');
  const cpu = report.cpu_us_per_decision;
  t.equal(cpu.shards.length, 2, 'each shard\'s CPU apart');
  t.ok(cpu.world > 0 && cpu.broker > 0 && cpu.shards.every((x: number) => x > 0), JSON.stringify(cpu));
  t.ok(Math.abs(cpu.all - (cpu.world + cpu.broker + cpu.shards[0] + cpu.shards[1])) <= 0.2 + 1e-9, 'all = world + broker + shards');
  t.end();
});
