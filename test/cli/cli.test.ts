import t from 'tap';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { runCli } from '../helpers/cli.js';
import { spawnSync } from 'node:child_process';
import { FIXTURES, REPO_ROOT } from '../helpers/paths.js';

const COMMANDS = [[], ['worlds'], ['worlds', 'check'], ['worlds', 'serve'], ['fleet'], ['bench', 'remote'], ['eval'], ['train'], ['bench', 'broker'], ['broker'], ['broker', 'user'], ['broker', 'user', 'add'], ['broker', 'user', 'remove'], ['broker', 'user', 'list'], ['env'], ['env', 'check'], ['bench'], ['bench', 'worlds'], ['bench', 'runtime'], ['bench', 'fleet'], ['bench', 'overload'], ['bench', 'fuzz'], ['bench', 'soak'], ['bench', 'training'], ['broker', 'cert'], ['broker', 'cert', 'ca'], ['broker', 'cert', 'server'], ['broker', 'cert', 'issue'], ['broker', 'cert', 'revoke'], ['sim'], ['sim', 'sweep'], ['demo'], ['export'], ['bundle'], ['bundle', 'verify'], ['bundle', 'inspect'], ['bundle', 'keygen'], ['bundle', 'sign'], ['bundle', 'import'], ['agent'], ['pack'], ['pack', 'runtime'], ['replay'], ['dashboard']];

// Every command's help, rendered in-process by the program the CLI runs (a process per command
// cost 2.5 s each on two shared cores); the top-level help is also run as a user runs it, below.
t.test('every command\'s --help explains itself, with examples, and shows only its own options', async (t) => {
  const { buildProgram } = await import(pathToFileURL(join(REPO_ROOT, 'cli', 'dist', 'program.js')).href) as { buildProgram: () => Command };
  const helps = new Map<string, string>();
  const walk = (cmd: Command, path: string[]) => {
    let out = '';
    cmd.configureOutput({ writeOut: (text) => { out += text; } });
    cmd.outputHelp();
    helps.set(path.join(' '), out);
    for (const sub of cmd.commands) walk(sub, [...path, sub.name()]);
  };
  walk(buildProgram(), []);
  t.same(COMMANDS.map((c) => c.join(' ')).filter((c) => !helps.has(c)), [], 'every command listed here exists');
  for (const [cmd, help] of helps) {
    t.match(help, new RegExp(`^Usage: fleetmind${cmd ? ` ${cmd}` : ''} `, 'm'), `fleetmind ${cmd}: usage`);
    t.match(help, /\nExamples:\n  \$ fleetmind /, `fleetmind ${cmd}: shows examples`);
    t.equal(help.split('Examples:').length, 2, `fleetmind ${cmd}: in one Examples section`);
    t.notMatch(help, /Global Options/, `fleetmind ${cmd}: the parent's options are the parent's help`);
  }
});

// a structural guard, not a timing: what `--help` or a refused argument loads is what every
// command line pays before it can say anything (1.1 s here with everything loaded; 0.45 s without)
t.test('the help and a refused argument load none of the heavy parts: ONNX Runtime, TensorFlow.js, aedes, MQTT, protobuf', (t) => {
  for (const args of [['--help'], ['sim', '--help'], ['eval', '--world', 'chess', '--policy', 'random']]) {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'cli', 'dist', 'main.js'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, NODE_DEBUG: 'esm' } });
    const loaded = [...new Set([...r.stderr.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((m) => m[1]))];
    t.ok(loaded.includes('commander'), `fleetmind ${args.join(' ')}: the module log is read (${loaded.length} packages)`);
    t.same(loaded.filter((p) => ['onnxruntime-node', '@tensorflow/tfjs', '@tensorflow/tfjs-core', 'aedes', 'mqtt', 'protobufjs'].includes(p)), [], `fleetmind ${args.join(' ')}: none of them`);
  }
  t.end();
});

t.test('the top-level help lists only implemented commands', (t) => {
  const r = runCli(['--help']);
  const commands = [...r.stdout.split('Commands:')[1].split('Examples:')[0].matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]);
  t.same(commands.sort(), ['agent', 'bench', 'broker', 'bundle', 'dashboard', 'demo', 'env', 'eval', 'export', 'fleet', 'help', 'pack', 'replay', 'rollout', 'sim', 'train', 'worlds']);
  t.end();
});

t.test('fleetmind worlds --json lists every world with its spaces', (t) => {
  const r = runCli(['worlds', '--json']);
  t.equal(r.code, 0);
  const worlds = JSON.parse(r.stdout);
  t.same(worlds.map((w: { id: string }) => w.id), ['simple_spread_v3', 'simple_tag_v3', 'grid_predator_prey_v0', 'traffic_junction_v0', 'pong_v0']);
  const tag = worlds[1];
  t.same(tag.agents.map((a: { observation_space: { shape: number[] } }) => a.observation_space.shape[0]), [16, 16, 16, 14]);
  t.same(tag.agents[0].action_space, { kind: 'discrete', n: 5 });
  // the options each world takes come from the schema that checks them
  const junction = worlds[3];
  t.same(junction.options.map((o: { name: string }) => o.name), ['difficulty', 'N', 'vision', 'maxCycles', 'addRateMin', 'addRateMax', 'currStart', 'currEnd', 'shield']);
  t.has(junction.options[0], { name: 'difficulty', type: 'easy | medium | hard' });
  t.has(junction.options[1], { name: 'N', type: 'integer', minimum: 1, maximum: 200 });
  for (const w of worlds) for (const o of w.options) t.ok(o.description, `${w.id} ${o.name} is described`);
  const human = runCli(['worlds']);
  t.match(human.stdout, /options \(--world-option key=value\):\n\s+paddlesPerSide {2}integer 1–2 {2}paddles a side/, 'the listing names each option with its type and range');
  t.end();
});

for (const file of ['simple_spread_v3.json', 'simple_tag_v3.json']) {
  t.test(`fleetmind env check passes on ${file} and prints the documented JSON`, (t) => {
    const path = join(FIXTURES, 'mpe', file);
    const r = runCli(['env', 'check', '--vectors', path, '--json']);
    t.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    t.has(report, { file: path, world: file.replace('.json', ''), pass: true });
    t.same(Object.keys(report.max_abs_err).sort(), ['action_u', 'obs', 'obs_f64', 'pos', 'reward', 'vel']);
    t.ok(report.episodes > 0 && report.steps === report.episodes * 25);
    const human = runCli(['env', 'check', '--vectors', path]);
    t.equal(human.code, 0);
    t.match(human.stdout, /PASS/);
    t.end();
  });
}

t.test('fleetmind env check passes on the continuous-action vectors', (t) => {
  for (const file of ['simple_spread_v3_continuous.json', 'simple_tag_v3_continuous_out_of_range.json']) {
    const r = runCli(['env', 'check', '--vectors', join(FIXTURES, 'mpe-continuous', file), '--json']);
    t.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    t.has(report, { pass: true, max_abs_err: { action_u: 0, obs: 0, pos: 0 } });
  }
  t.end();
});

t.test('env check fails with exit 1 and names the episode, step, agent and quantity of a mismatch', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-vectors-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const data = JSON.parse(readFileSync(join(FIXTURES, 'mpe', 'simple_spread_v3.json'), 'utf8'));
  data.episodes[7].steps[11].rewards[2] += 0.25;
  const file = join(dir, 'tampered.json');
  writeFileSync(file, JSON.stringify(data));
  const r = runCli(['env', 'check', '--vectors', file, '--json']);
  t.equal(r.code, 1);
  t.equal(JSON.parse(r.stdout).pass, false);
  t.match(r.stderr, /episode 7 \(seed \d+\), step 12, agent agent_2, reward/);
  t.end();
});

t.test("fleetmind env check replays IC3Net's traffic-junction trajectories exactly, and names a mismatch's episode, step, quantity and car", (t) => {
  const human = runCli(['env', 'check', '--vectors', join(FIXTURES, 'traffic_junction', 'hard.json')]);
  t.equal(human.code, 0, human.stderr);
  t.match(human.stdout, /traffic_junction_v0 \(hard\), 12 episodes, 960 steps/);
  t.match(human.stdout, /reward +0 +exact/);
  t.match(human.stdout, /PASS/);
  const dir = mkdtempSync(join(tmpdir(), 'fm-vectors-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const data = JSON.parse(readFileSync(join(FIXTURES, 'traffic_junction', 'easy.json'), 'utf8'));
  data.episodes[5].steps[9].collision[1] = 1 - data.episodes[5].steps[9].collision[1];
  writeFileSync(join(dir, 'tampered.json'), JSON.stringify(data));
  const r = runCli(['env', 'check', '--vectors', join(dir, 'tampered.json'), '--json']);
  t.equal(r.code, 1);
  t.has(JSON.parse(r.stdout), { pass: false, mismatches: { collision: 1, reward: 0 } });
  t.match(r.stderr, /episode 5 \(env seed \d+\), step 9, collision \[1\]/);
  t.end();
});

t.test('fleetmind eval plays the traffic-junction baselines: always-GAS, FIFO, and either under the emergency brake; random under the brake and under keep-clear', (t) => {
  const run = (...args: string[]) => {
    const r = runCli(['eval', '--world', 'traffic_junction', '--world-option', 'difficulty=medium', '--episodes', '100', '--json', ...args]);
    t.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { policy: string; outcomes: Record<string, number> };
  };
  const gas = run('--policy', 'always:0');
  const braked = run('--policy', 'always:0', '--shield', 'emergency-brake');
  t.ok(gas.outcomes.collisions > 0, 'always-GAS crashes');
  t.equal(braked.outcomes.collisions, 0, 'the brake stops every crash of always-GAS on medium');
  t.ok(braked.outcomes.shield_overrides > 0);
  t.match(braked.policy, /always:0, emergency-brake shield/);
  const randomBraked = run('--policy', 'random', '--shield', 'emergency-brake');
  const randomKeptClear = run('--policy', 'random', '--shield', 'keep-clear');
  t.match(randomKeptClear.policy, /random, keep-clear shield/);
  t.ok(randomKeptClear.outcomes.collisions < randomBraked.outcomes.collisions,
    `keep-clear: random cars hit on arrival cells less often (${randomKeptClear.outcomes.collisions} against ${randomBraked.outcomes.collisions} collisions per episode)`);
  t.equal(run('--policy', 'scripted').outcomes.collisions, 0, 'FIFO crosses without a crash');
  const bad = runCli(['eval', '--world', 'simple_spread', '--policy', 'always:0', '--shield', 'emergency-brake']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /simple_spread_v3 options are invalid/);
  const option = runCli(['eval', '--world', 'traffic_junction', '--policy', 'random', '--world-option', 'difficulty']);
  t.equal(option.code, 2);
  t.match(option.stderr, /expected KEY=VALUE/);
  t.end();
});

t.test('fleetmind eval over runs: each metric as an IQM with its 95 % interval, the raw data in marl-eval\'s layout', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-marl-eval-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'results.json');
  const base = ['eval', '--world', 'traffic_junction', '--world-option', 'difficulty=easy', '--episodes', '50', '--marl-eval', file];
  const random = runCli([...base, '--policy', 'random', '--runs', '5', '--json']);
  t.equal(random.code, 0, random.stderr);
  const summary = JSON.parse(random.stdout) as { task: string; algorithm: string; runs: number; summaries: { metric: string; iqm: number; ci95: number[]; run_means: number[] }[] };
  t.has(summary, { task: 'difficulty=easy', algorithm: 'random', runs: 5 });
  const success = summary.summaries.find((s) => s.metric === 'success')!;
  t.equal(success.run_means.length, 5);
  t.ok(new Set(success.run_means).size > 1, 'random runs differ by their seeds');
  t.ok(success.ci95[0] <= success.iqm && success.iqm <= success.ci95[1]);
  const human = runCli([...base, '--policy', 'scripted', '--runs', '5']);
  t.equal(human.code, 0, human.stderr);
  t.match(human.stdout, /5 runs × 50 episodes from seed 0; interquartile mean over runs, 95 % bootstrap interval/);
  t.match(human.stdout, /\nsuccess +[01]\.\d{3} /, 'the joint success per episode, as a rate');
  const data = JSON.parse(readFileSync(file, 'utf8'));
  const task = data.traffic_junction_v0['difficulty=easy'];
  t.same(Object.keys(task), ['random', 'scripted'], 'one file, both baselines');
  t.same(Object.keys(task.random), ['run_1', 'run_2', 'run_3', 'run_4', 'run_5']);
  t.equal(task.random.run_3.absolute_metrics.success.length, 50, 'every evaluation episode');
  const again = runCli([...base, '--policy', 'random', '--runs', '5']);
  t.equal(again.code, 2);
  t.match(again.stderr, /random is already in the file/);
  t.match(again.stderr, /run 1\/5…/);
  t.notMatch(again.stderr, /run 2\/5/, 'refused once the first run names the task, before the other four are played');
  const before = readFileSync(file, 'utf8');
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{"traffic_junction_v0": ');
  const malformed = runCli([...base.slice(0, -1), broken, '--policy', 'random', '--runs', '5']);
  t.equal(malformed.code, 2);
  t.match(malformed.stderr, /--marl-eval .*broken\.json: .*JSON/);
  t.notMatch(malformed.stderr, /run 1\/5/, 'a file that cannot be read is refused before anything is evaluated');
  t.equal(readFileSync(broken, 'utf8'), '{"traffic_junction_v0": ', 'and left as it was');
  t.equal(readFileSync(file, 'utf8'), before, 'the refused evaluation changed nothing');
  t.end();
});

t.test('a trained run and a baseline on the same world options are one marl-eval task, whatever order the options came in', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-marl-task-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'results.json');
  t.equal(runCli(['train', '--world', 'simple_spread', '--agents', '4', '--neighbours', '2', '--no-agent-id', '--steps', '3200', '--envs', '32', '--out', join(dir, 'run')]).code, 0);
  const trained = runCli(['eval', '--run', join(dir, 'run'), '--episodes', '20', '--marl-eval', file]);
  t.equal(trained.code, 0, trained.stderr);
  const random = runCli(['eval', '--world', 'simple_spread', '--world-option', 'neighbours=2', '--agents', '4', '--policy', 'random', '--episodes', '20', '--marl-eval', file]);
  t.equal(random.code, 0, random.stderr);
  const data = JSON.parse(readFileSync(file, 'utf8'));
  t.same(Object.keys(data.simple_spread_v3), ['N=4,neighbours=2'], 'one task, its options sorted');
  t.same(Object.keys(data.simple_spread_v3['N=4,neighbours=2']).sort(), ['mappo-mlp', 'random'], 'both on it');
  t.end();
});

t.test('bad files and bad arguments give one clear line and exit 2, with no stack trace', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-vectors-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'garbage.json'), '{"format": ');
  writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ format: 'mpe-reference-trajectories/1', env: 'simple_spread_v3', configs: [], episodes: [{ seed: 'x' }] }));
  writeFileSync(join(dir, 'unknown.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(FIXTURES, 'mpe', 'simple_tag_v3.json'), 'utf8')), env: 'simple_chess_v1' }));
  const cases: [string[], RegExp][] = [
    [['env', 'check', '--vectors', join(dir, 'missing.json')], /vectors file not found/],
    [['env', 'check', '--vectors', join(dir, 'garbage.json')], /is not valid JSON/],
    [['env', 'check', '--vectors', join(dir, 'wrong.json')], /not a mpe-reference-trajectories\/1 file: episodes\[0\]\./],
    [['env', 'check', '--vectors', join(dir, 'unknown.json')], /unknown world "simple_chess_v1"/],
    [['env', 'check'], /env check needs --vectors FILE \(reference trajectories\) or --world W \(the contract check\)/],
    [['bench', 'worlds', '--runs', '0'], /expected a positive integer, got "0"/],
    [['bench', 'worlds', '--envs', '1,x'], /expected a positive integer, got "x"/],
    [['worlds', '--frobnicate'], /unknown option '--frobnicate'/],
    [['trian'], /unknown command 'trian'/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, message, args.join(' '));
    t.match(r.stderr, /^fleetmind: /, 'prefixed with the program name');
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  const verbose = runCli(['--verbose', 'env', 'check', '--vectors', join(dir, 'wrong.json')]);
  t.match(verbose.stderr, /\n\s+at /, '--verbose shows the stack');
  t.end();
});

t.test('fleetmind bench worlds --json reports env-steps/s per batch size', (t) => {
  const r = runCli(['bench', 'worlds', '--json', '--envs', '1,8', '--seconds', '0.05', '--runs', '1']);
  t.equal(r.code, 0, r.stderr);
  const envelope = JSON.parse(r.stdout);
  t.equal(envelope.bench, 'worlds');
  const cases = envelope.results;
  t.same(cases.map((c: { envs: number }) => c.envs), [1, 8]);
  for (const c of cases) {
    t.has(c, { world: 'simple_spread_v3', agents: 3 });
    t.ok(c.env_steps_per_s > 0);
  }
  t.end();
});

t.test('fleetmind bench training --json: the same run with its gradient in one part, in two on one thread and in two on two threads; the last two train identical weights', (t) => {
  const r = runCli(['bench', 'training', '--json', '--continuous', '--steps', '3200', '--set', 'numEnvs=32']);
  t.equal(r.code, 0, r.stderr);
  const { bench, results } = JSON.parse(r.stdout);
  t.equal(bench, 'training');
  t.has(results, { world: 'simple_spread_v3', algo: 'mappo', actor: 'mlp', steps: 3200, same_weights: true });
  t.same(results.cases.map((c: { parts: number; threads: number }) => [c.parts, c.threads]), [[1, 1], [2, 1], [2, 2]]);
  const [one, partsOnOne, parallel] = results.cases;
  t.equal(parallel.weights_sha256, partsOnOne.weights_sha256, 'two parts: the same weights on one thread and on two');
  t.equal(parallel.last_return, partsOnOne.last_return);
  t.not(one.weights_sha256, partsOnOne.weights_sha256, 'one part rounds otherwise');
  for (const c of results.cases) t.ok(c.wall_s > 0 && c.update_s > 0 && c.update_s < c.wall_s && c.env_steps_per_s > 0, `${c.parts} on ${c.threads}: times measured`);
  t.ok(results.ratios.one_part_vs_threads > 0 && results.ratios.parts_on_one_thread_vs_threads > 0);
  const refused = runCli(['bench', 'training', '--set', 'lr=-1']);
  t.equal(refused.code, 2);
  t.match(refused.stderr, /--set: lr: Too small/);
  t.end();
});

t.test('npx fleetmind runs the root package bin after npm install', (t) => {
  const r = spawnSync('npx', ['--no-install', 'fleetmind', '--version'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout.trim(), /^\d+\.\d+\.\d+$/);
  t.end();
});

t.test('fleetmind dashboard and replay refuse bad input in one line, exit 2', (t) => {
  const cases: [string[], RegExp][] = [
    [['dashboard', '--broker', 'localhost:1883'], /--broker: expected mqtt:\/\/host:port/],
    [['dashboard', '--broker', 'mqtt://127.0.0.1:1883', '--port', '70000'], /option '--port <port>' argument '70000' is invalid. expected a port number 0-65535/],
    [['dashboard', '--broker', 'mqtt://127.0.0.1:1883', '--fleet', 'a/b'], /--fleet: expected 1-64 characters/],
    [['dashboard', '--broker', 'mqtt://127.0.0.1:1', '--port', '0'], /cannot reach the broker at mqtt:\/\/127\.0\.0\.1:1 within 5 s/],
    [['replay', 'test'], /no \.mcap recordings in test/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, message);
  }
  t.end();
});
