// A gated CommNet (IC3Net's gate, `fleetmind train --gate`) from end to end: trained, exported
// with the gate on stage 0, it plays the same episodes in TensorFlow.js, ONNX Runtime and a
// fleet; on the wire a silent agent publishes one empty round-1 message and nothing else that
// tick, its peers neither wait for it nor count it missing, and the simulator counts messages
// apart from the empty ones; its recordings replay exactly.

import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecording } from '@fleetmind/runtime';
import { runCli, runCliJson } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fm-gate-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const run = join(dir, 'run');
const bundle = join(dir, 'bundle');

const json = runCliJson;

t.test('trained with --gate, exported with the gate, it plays the same episodes in TensorFlow.js and ONNX Runtime', (t) => {
  // short: an untrained gate speaks about half the time, so silences and messages mix
  const trained = runCli(['train', '--world', 'simple_spread', '--actor', 'commnet', '--gate', '--message-cost', '0.1', '--envs', '16', '--steps', '4000', '--seed', '3', '--out', run]);
  t.equal(trained.code, 0, trained.stderr);
  t.match(JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')).config, { actor: 'commnet', gate: true, messageCost: 0.1 });
  const rates = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line)['comm/speak_rate']);
  t.ok(rates.every((r) => r > 0 && r < 1), `the speak rate is reported every update (${rates.map((r) => r.toFixed(2)).join(' ')})`);
  const exported = runCli(['export', '--run', run, '--out', bundle, '--episodes', '10']);
  t.equal(exported.code, 0, exported.stderr);
  const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
  t.match(manifest.roles[0].graphs, { kind: 'commnet', stages: { length: 3 }, gate: { output: 'gate' } });
  t.ok(manifest.parity.max_abs_error <= 1e-5 && manifest.parity.action_mismatches === 0, `parity ${manifest.parity.max_abs_error}, every gate and action the same`);
  t.equal(runCli(['bundle', 'verify', bundle]).code, 0);
  t.match(runCli(['bundle', 'inspect', bundle]).stdout, /3 stages \+ final \+ fallback \(stage 0 chooses whether to speak\)/);
  const checkpoint = json(['eval', '--run', run, '--episodes', '6', '--json']);
  const onnx = json(['eval', '--bundle', bundle, '--episodes', '6', '--json']);
  t.same(onnx.episode_team_returns, checkpoint.episode_team_returns, 'ONNX Runtime plays TensorFlow.js\'s episodes');
  t.end();
});

t.test('as a fleet: silent agents publish one empty message a tick, nobody waits for them or counts them missing, and recordings replay', async (t) => {
  const recordings = join(dir, 'recordings');
  const evaluated = json(['eval', '--bundle', bundle, '--episodes', '4', '--json']);
  const fleet = json(['sim', '--bundle', bundle, '--episodes', '4', '--record', recordings, '--json']);
  t.same(fleet.episode_team_returns, evaluated.episode_team_returns, 'the fleet plays eval\'s episodes');
  const agentTicks = 4 * 25 * 3;
  t.same(fleet.tiers, { full: agentTicks, partial: 0, none: 0, safe: 0 }, 'a peer that chose silence is not a missing one');
  const { sent, empty, per_agent_tick: perAgentTick } = fleet.messages;
  t.ok(empty > 0 && empty < agentTicks, `${empty} of ${agentTicks} agent-ticks silent`);
  t.equal(fleet.agent_counters.messages.silent, empty, 'the agents counted the silences the network carried');
  // every agent-tick is either a message in each of the 2 rounds or one empty message
  t.equal(empty + (sent - empty) / 2, agentTicks, 'a silent agent publishes nothing after round 1');
  t.equal(perAgentTick, Number(((sent - empty) / agentTicks).toFixed(3)));
  t.ok(perAgentTick < 2, `${perAgentTick} messages per agent per tick (2 ungated)`);
  const agentFiles = readdirSync(join(recordings, 'nominal')).filter((f) => f.startsWith('agent_') && f.endsWith('.mcap')).map((f) => join(recordings, 'nominal', f));
  t.equal(agentFiles.length, 3);
  const recorded = (await Promise.all(agentFiles.map((f) => readRecording(f)))).flatMap((r) => r.ticks);
  t.equal(recorded.filter((tick) => tick.silent).length, empty, 'each silence is in its agent\'s recording (TickRecord.silent)');
  const replayed = json(['replay', ...agentFiles, '--json']) as { agreement: number; compared: number }[];
  t.same(replayed.map((r) => [r.agreement, r.compared]), [[1, 100], [1, 100], [1, 100]], 'each agent\'s recording replays exactly, gates and actions');
  t.end();
});

t.test('under message loss a lost silence stands for every round: nobody waits out a deadline, and the run is deterministic', (t) => {
  const lossy = () => json(['sim', '--bundle', bundle, '--episodes', '3', '--faults', join('sim-harness', 'faults', 'examples', 'msg-loss-30.yaml'), '--json']);
  const first = lossy();
  t.ok(first.faults_applied.drop > 0 && first.messages.empty > 0, `${first.faults_applied.drop} messages lost, silences among those sent`);
  t.equal(first.agent_counters.deadlineMisses, 0, 'every round settled by a message or a notice (a lost silence: one notice per round)');
  t.equal(first.missing_actions, 0);
  t.same(lossy().episode_team_returns, first.episode_team_returns, 'the same faulted episodes again');
  t.end();
});

t.test('gate flags that mean nothing are refused by name', (t) => {
  const mlp = runCli(['train', '--world', 'simple_spread', '--gate', '--steps', '100', '--out', join(dir, 'x')]);
  t.equal(mlp.code, 2);
  t.match(mlp.stderr, /--gate: needs --actor commnet/);
  const cost = runCli(['train', '--world', 'simple_spread', '--actor', 'commnet', '--message-cost', '0.1', '--steps', '100', '--out', join(dir, 'y')]);
  t.equal(cost.code, 2);
  t.match(cost.stderr, /--message-cost: needs --gate/);
  const negative = runCli(['train', '--world', 'simple_spread', '--actor', 'commnet', '--gate', '--message-cost', '-1', '--out', join(dir, 'z')]);
  t.equal(negative.code, 2);
  t.match(negative.stderr, /expected a number of 0 or more, got "-1"/);
  t.end();
});
