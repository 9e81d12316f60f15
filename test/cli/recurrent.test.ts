// A recurrent (GRU) policy from end to end on a world where memory matters (cue_recall_v0,
// examples/worlds/recall.js: name the cue you were shown four steps ago): trained, it answers
// where an MLP trained alike stays at chance; exported, its bundle declares its state and plays
// exactly the checkpoint's episodes; as a fleet it plays exactly the evaluator's episodes,
// forgetting at each agent's entry; and a runtime agent carries its memory from tick to tick,
// forgets it on a new episode, a skipped tick and a stale gap, counts why, and records it so
// that a replay remakes every decision.

import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createAgent, InProcessAdapter, readRecording, replayRecording, type ActionOut } from '@fleetmind/runtime';
import { runCli, runCliJson } from '../helpers/cli.js';

const recall = join('examples', 'worlds', 'recall.js');
const dir = mkdtempSync(join(tmpdir(), 'fm-recurrent-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const gruRun = join(dir, 'gru');
const bundle = join(dir, 'bundle');

const json = runCliJson;

t.test('trained on cue recall, a GRU names its cue; an MLP trained alike cannot beat chance', (t) => {
  const mlpRun = join(dir, 'mlp');
  for (const [actor, out] of [['gru', gruRun], ['mlp', mlpRun]]) {
    const trained = runCli(['train', '--world', recall, '--actor', actor, '--steps', '60000', '--seed', '1', '--out', out]);
    t.equal(trained.code, 0, trained.stderr);
  }
  t.match(JSON.parse(readFileSync(join(gruRun, 'config.json'), 'utf8')).config, { actor: 'gru', world: 'cue_recall_v0' });
  const gru = json(['eval', '--run', gruRun, '--episodes', '300', '--json']).agent_return_mean;
  const mlp = json(['eval', '--run', mlpRun, '--episodes', '300', '--json']).agent_return_mean;
  const scripted = json(['eval', '--world', recall, '--policy', 'scripted', '--episodes', '300', '--json']).agent_return_mean;
  t.equal(scripted, 1, 'the scripted controller remembers every cue');
  t.ok(gru >= 0.95, `the GRU names its cue in ${(gru * 100).toFixed(1)} % of answers`);
  t.ok(mlp <= 0.45, `the MLP in ${(mlp * 100).toFixed(1)} % (chance: 33.3 %)`);
  t.end();
});

t.test('exported, the bundle declares its state, verifies, and plays exactly the checkpoint\'s episodes', (t) => {
  const exported = runCli(['export', '--run', gruRun, '--out', bundle, '--episodes', '50']);
  t.equal(exported.code, 0, exported.stderr);
  const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
  t.match(manifest.roles[0].graphs, { kind: 'recurrent', actor: 'agent/actor.onnx', state: { input: 'state', output: 'next_state', size: 64 } });
  t.equal(manifest.provenance.actor, 'gru');
  t.ok(manifest.parity.max_abs_error <= 1e-5 && manifest.parity.action_mismatches === 0, `sequence parity ${manifest.parity.max_abs_error}`);
  t.equal(runCli(['bundle', 'verify', bundle]).code, 0);
  t.match(runCli(['bundle', 'inspect', bundle]).stdout, /agent\/actor\.onnx \(keeps a state of 64\)/);
  const run = json(['eval', '--run', gruRun, '--episodes', '50', '--json']);
  const onnx = json(['eval', '--bundle', bundle, '--episodes', '50', '--json']);
  t.same(onnx.episode_team_returns, run.episode_team_returns, 'ONNX Runtime with the state fed back plays TensorFlow.js\'s episodes');
  t.end();
});

t.test('as a fleet it plays exactly the evaluator\'s episodes, each agent forgetting when it enters', (t) => {
  const evaluated = json(['eval', '--bundle', bundle, '--episodes', '20', '--json']);
  const fleet = json(['sim', '--bundle', bundle, '--episodes', '20', '--json']);
  t.same(fleet.episode_team_returns, evaluated.episode_team_returns, 'sim ↔ eval, episode by episode');
  t.equal(fleet.missing_actions, 0);
  // two agents: each starts once, then forgets at each of the 19 later episodes it enters
  t.same(fleet.agent_counters.memoryResets, { start: 2, episode: 38 });
  t.end();
});

t.test('a CommNet-GRU trains, exports its state on stage 0 and the fallback, and plays the same episodes in TensorFlow.js, ONNX Runtime and a fleet, whose recordings replay exactly', (t) => {
  const run = join(dir, 'commnet-gru');
  const out = join(dir, 'commnet-gru-bundle');
  const trained = runCli(['train', '--world', 'simple_spread', '--actor', 'commnet-gru', '--msg-dropout', '0.3', '--envs', '16', '--steps', '8000', '--seed', '3', '--out', run]);
  t.equal(trained.code, 0, trained.stderr);
  const exported = runCli(['export', '--run', run, '--out', out, '--episodes', '10']);
  t.equal(exported.code, 0, exported.stderr);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  t.match(manifest.roles[0].graphs, { kind: 'commnet', stages: { length: 3 }, state: { input: 'state', output: 'next_state', size: 64 } });
  t.equal(manifest.provenance.actor, 'commnet-gru');
  t.ok(manifest.parity.max_abs_error <= 1e-5 && manifest.parity.action_mismatches === 0, `sequence parity ${manifest.parity.max_abs_error} with 30 % of links cut`);
  t.equal(runCli(['bundle', 'verify', out]).code, 0);
  const checkpoint = json(['eval', '--run', run, '--episodes', '6', '--json']);
  const onnx = json(['eval', '--bundle', out, '--episodes', '6', '--json']);
  t.same(onnx.episode_team_returns, checkpoint.episode_team_returns, 'ONNX Runtime plays TensorFlow.js\'s episodes');
  const recordings = join(dir, 'commnet-gru-recordings');
  const evaluated = json(['eval', '--bundle', out, '--episodes', '4', '--json']);
  const fleet = json(['sim', '--bundle', out, '--episodes', '4', '--record', recordings, '--json']);
  t.same(fleet.episode_team_returns, evaluated.episode_team_returns, 'the fleet plays eval\'s episodes');
  t.same(fleet.tiers, { full: 300, partial: 0, none: 0, safe: 0 }, 'every decision heard the whole team');
  t.same(fleet.agent_counters.memoryResets, { start: 3, episode: 9 });
  const agentFiles = readdirSync(join(recordings, 'nominal')).filter((f) => f.startsWith('agent_') && f.endsWith('.mcap')).map((f) => join(recordings, 'nominal', f));
  t.equal(agentFiles.length, 3);
  const replayed = json(['replay', ...agentFiles, '--json']) as { agreement: number; compared: number }[];
  t.same(replayed.map((r) => [r.agreement, r.compared]), [[1, 100], [1, 100], [1, 100]], 'each agent\'s recording replays exactly, rounds and state');
  t.end();
});

t.test('a runtime agent carries its memory across ticks, forgets on a new episode, a skipped tick or a stale gap, counts why, and replays exactly', async (t) => {
  const recorded = join(dir, 'recorded');
  const actions: ActionOut[] = [];
  let answered: (() => void) | null = null;
  const adapter = new InProcessAdapter((a) => { actions.push(a); answered?.(); });
  const agent = await createAgent({ bundle, agentId: 'agent_0', broker: null, adapter, logger: pino({ level: 'silent' }), memoryMaxAgeMs: 200, record: { dir: recorded } });
  const observe = async (tick: number, episode: number, values: number[]) => {
    const done = new Promise<void>((resolve) => { answered = resolve; });
    adapter.observe({ tick, episode, values: Float32Array.from(values) });
    await done;
    return actions[actions.length - 1].action;
  };
  const cue = (c: number) => [0, 1, 2].map((k) => (k === c ? 1 : 0)).concat(0);
  const nothing = [0, 0, 0, 0];
  const answerNow = [0, 0, 0, 1];
  // shown cue c on a new episode's first tick, asked four ticks later: the agent remembers it
  for (const [k, c] of [2, 0, 1].entries()) {
    const episode = 10 + k;
    await observe(1, episode, cue(c));
    for (const tick of [2, 3, 4]) await observe(tick, episode, nothing);
    t.equal(await observe(5, episode, answerNow), c, `episode ${episode}: shown cue ${c}, answers ${c}`);
  }
  t.same(agent.snapshot().memoryResets, { start: 1, episode: 2 }, 'one start, then a new episode each time');

  // a skipped tick: ticks 2 … 3 never came, so the memory of tick 1 is gone
  await observe(1, 20, cue(2));
  await observe(4, 20, nothing);
  t.equal(agent.snapshot().memoryResets.gap, 1, 'the skipped ticks are a gap');
  // a stale gap: the next tick in order, but later than memoryMaxAgeMs
  const before = performance.now();
  while (performance.now() - before < 250) await new Promise((resolve) => setImmediate(resolve));
  await observe(5, 20, nothing);
  t.equal(agent.snapshot().memoryResets.age, 1, 'more than 200 ms since the last decision: forgotten');
  t.same(agent.snapshot().safeReasons, {}, 'every decision was the policy\'s');
  await agent.stop();

  // the recording says where the memory went, and a replay that forgets there remakes every decision
  const [file] = readdirSync(recorded).filter((f) => f.endsWith('.mcap'));
  const recording = await readRecording(join(recorded, file));
  t.same(recording.ticks.map((r) => r.memoryReset).filter(Boolean), ['start', 'episode', 'episode', 'episode', 'gap', 'age']);
  t.match(recording.counters.at(-1)?.values, { memory_resets_start: 1, memory_resets_episode: 3, memory_resets_gap: 1, memory_resets_age: 1 }, 'the counters at the stop');
  const replay = await replayRecording(recording);
  t.equal(replay.compared, 18);
  t.same(replay.differences, [], 'every action the same');
});
