// A rollout inside the simulator (sim --rollout): real agents with bundle stores on the run's
// broker, the rollout controller shipping a bundle stage by stage while the episodes play.
// The same policy under a new version rolls out to everyone with every episode's return exactly
// the nominal run's (the switch itself changes nothing: no tick missed, no tier lost); a bad
// bundle is stopped at its canary and the fleet is back on its bundle within a few ticks.

import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rolloutStrategySchema } from '@fleetmind/runtime';
import { runCampaign, simulate } from '@fleetmind/sim-harness/fleet';
import { evaluateController, makeWorld, randomController } from '@fleetmind/worlds';
import { COMMNET_BUNDLE } from '../helpers/agents.js';
import { newVersion, tempDir } from '../helpers/rollout-fleet.js';
import { runCli } from '../helpers/cli.js';

// A rollout's stages advance on the wall clock (statuses ten times a second, shadow reports twice),
// so a lockstep run with a rollout plays a tick no faster than ROLLOUT_LOCKSTEP_MIN_TICK_MS (10 ms):
// 40 episodes are 10 s or more, long enough for every stage several times over, however fast the
// machine. A loaded machine only slows the ticks, which gives the stages more time.
const EPISODES = 40;
/** a random policy's team return on the run's episodes (the same starts): what retained performance is measured from */
function randomTeamReturns(episodes: number, seed: number): number[] {
  const { world: w } = JSON.parse(readFileSync(join(COMMNET_BUNDLE, 'manifest.json'), 'utf8')) as { world: { id: string; config?: Record<string, unknown> } };
  const world = makeWorld(w.id, { numEnvs: episodes, autoReset: false, config: w.config });
  return evaluateController(world, randomController(world, seed), seed).episode_team_returns;
}

const CANARY = rolloutStrategySchema.parse({ kind: 'canary', canary: { agents: ['agent_1'] }, soak_s: 0.3, min_decisions: 20, stage_timeout_s: 30, gates: { max_safe_rate: 0.05, min_full_rate: 0.95 } });

for (const mode of ['inproc', 'procs'] as const) {
  // in process, with the broker's auth on: every agent its own user, the rollout's operator an admin
  const auth = mode === 'inproc';
  t.test(`${mode}${auth ? ', auth' : ''}: the same policy under a new version rolls out to everyone, and every episode plays as without it`, async (t) => {
    const nominal = await simulate({ bundle: COMMNET_BUNDLE, episodes: EPISODES, seed: 4, mode });
    // each stage is judged on its return too: the episodes played wholly on it keep all of the nominal run's
    const strategy = { ...CANARY, gates: { ...CANARY.gates, min_retained: 0.95 } };
    const baseline = { nominal: nominal.episode_team_returns, random: randomTeamReturns(EPISODES, 4) };
    const run = await simulate({ bundle: COMMNET_BUNDLE, episodes: EPISODES, seed: 4, mode, auth, rollout: { bundle: newVersion(t, '1.0.1'), strategy, baseline } });
    const r = run.rollout!;
    t.equal(r.outcome, 'completed', JSON.stringify(r.abort));
    t.ok(r.stages.every((s) => s.retained!.episodes >= 1 && s.retained!.retained === 1), `each stage retained all: ${JSON.stringify(r.stages.map((s) => s.retained))}`);
    t.same(r.stages.map((s) => s.agents.length), [1, 3], 'the canary, then everyone');
    t.same(r.versions.at(-1)!.versions, { agent_0: 'spread-commnet 1.0.1', agent_1: 'spread-commnet 1.0.1', agent_2: 'spread-commnet 1.0.1' });
    t.ok(r.versions.length >= 2, `versions changed at ticks ${r.versions.map((v) => v.tick).join(', ')}`);
    t.same(run.episode_team_returns, nominal.episode_team_returns, 'every episode\'s return is the nominal one: the switches cost nothing');
    t.same(run.tiers, nominal.tiers, 'every decision heard the whole team, as in the nominal run');
    t.equal(run.missing_actions, 0);
  });
}

t.test('a bad bundle is stopped at its canary and the fleet is back on its bundle within a few ticks', async (t) => {
  const bad = newVersion(t, '6.6.6', undefined, (m) => {
    const obs = m.roles[0].observation as { size: number; low?: number[]; high?: number[] };
    obs.low = Array(obs.size).fill(100);
    obs.high = Array(obs.size).fill(101);
  });
  const run = await simulate({ bundle: COMMNET_BUNDLE, episodes: EPISODES, seed: 4, rollout: { bundle: bad, strategy: CANARY } });
  const r = run.rollout!;
  t.equal(r.outcome, 'aborted');
  t.match(r.abort!.reason, /stage 1 failed its health gates: agent_1: safe actions 100\.0 % > 5\.0 %/);
  t.ok(r.abort_tick !== null && r.rolled_back_tick !== null, 'aborted, and seen back');
  t.ok(r.rolled_back_tick! - r.abort_tick! <= 25, `back on its bundle ${r.rolled_back_tick! - r.abort_tick!} ticks after the abort (at most an episode)`);
  t.same(r.versions.at(-1)!.versions, { agent_0: 'spread-commnet 1.0.0', agent_1: 'spread-commnet 1.0.0', agent_2: 'spread-commnet 1.0.0' });
  t.ok(r.versions.every((v) => v.versions.agent_0 === 'spread-commnet 1.0.0' && v.versions.agent_2 === 'spread-commnet 1.0.0'), 'only the canary ever ran the bad bundle');
  t.ok(run.tiers.safe > 0, 'the canary took safe actions while it ran the bad bundle');
});

t.test('the return gate (simulation only): a canary that stands still passes every counter gate but not its return', async (t) => {
  const still = newVersion(t, '6.6.7', undefined, (m) => {
    const obs = m.roles[0].observation as { size: number; low?: number[]; high?: number[] };
    obs.low = Array(obs.size).fill(100);
    obs.high = Array(obs.size).fill(101);
  });
  // the counters would let it through (safe actions are not judged); its episodes' return does not
  const strategy = rolloutStrategySchema.parse({ ...CANARY, gates: { max_safe_rate: 1, min_retained: 0.95 } });
  const { run } = await runCampaign({ bundle: COMMNET_BUNDLE, episodes: EPISODES, seed: 4, plan: null, rollout: { bundle: still, strategy } });
  const r = run.rollout!;
  t.equal(r.outcome, 'aborted');
  t.match(r.abort!.reason, /stage 1 failed its health gates: team return retained -?\d+\.\d % < 95\.0 % over \d+ episodes?/);
  t.ok(r.stages[0].retained!.episodes >= 1 && r.stages[0].retained!.retained < 0.95, JSON.stringify(r.stages[0].retained));
  // the canary's episodes lost return; once every agent was back, the episodes are the nominal ones exactly
  const nominal = await simulate({ bundle: COMMNET_BUNDLE, episodes: EPISODES, seed: 4 });
  const canaryFrom = r.versions.find((v) => v.versions.agent_1 === 'spread-commnet 6.6.7')!.episode;
  const backIn = r.versions.at(-1)!.episode;
  t.same(r.versions.at(-1)!.versions, { agent_0: 'spread-commnet 1.0.0', agent_1: 'spread-commnet 1.0.0', agent_2: 'spread-commnet 1.0.0' });
  const during = run.episode_team_returns.slice(canaryFrom, backIn + 1);
  t.ok(during.some((x, k) => x < nominal.episode_team_returns[canaryFrom + k]), `an episode the canary stood in lost return (episodes ${canaryFrom}–${backIn})`);
  t.same(run.episode_team_returns.slice(backIn + 1), nominal.episode_team_returns.slice(backIn + 1), 'after the episode it was back in, every episode is the nominal one');

  // a real fleet's return is not known: the command refuses the gate before publishing anything
  const dir = tempDir(t, 'fm-gate-');
  writeFileSync(join(dir, 'gate.yaml'), 'kind: all\ngates: {min_retained: 0.9}\n');
  const cli = runCli(['rollout', 'start', '--bundle', COMMNET_BUNDLE, '--fleet', 'nobody', '--broker', 'mqtt://127.0.0.1:1', '--strategy', join(dir, 'gate.yaml')]);
  t.equal(cli.code, 2, cli.stderr);
  t.match(cli.stderr, /gate\.yaml: gates\.min_retained is judged in simulation only/);
});

t.test('a shadow stage: the candidate decides beside the live policy and is never acted on', async (t) => {
  const nominal = await simulate({ bundle: COMMNET_BUNDLE, episodes: EPISODES, seed: 6 });
  const shadowFirst = (minAgreement: number) => rolloutStrategySchema.parse({ ...CANARY, shadow: { min_agreement: minAgreement } });

  // the same policy under a new version agrees with itself on every decision, so the stages follow
  const same = await simulate({ bundle: COMMNET_BUNDLE, episodes: EPISODES, seed: 6, rollout: { bundle: newVersion(t, '1.0.2'), strategy: shadowFirst(0.99) } });
  t.equal(same.rollout!.outcome, 'completed', JSON.stringify(same.rollout!.abort));
  const shadowStage = same.rollout!.stages[0];
  t.equal(shadowStage.stage, 0);
  t.ok(shadowStage.shadow!.every((s) => s.agreement === 1 && s.decisions >= 20), 'every agent\'s shadow chose what its live policy chose, every time');
  t.same(same.episode_team_returns, nominal.episode_team_returns);

  // another policy with the same message layout disagrees: the rollout stops before any agent switches
  const dir = tempDir(t, 'fm-shadow-');
  t.equal(runCli(['train', '--world', 'simple_spread', '--actor', 'commnet', '--steps', '3200', '--out', join(dir, 'run')]).code, 0);
  t.equal(runCli(['export', '--run', join(dir, 'run'), '--out', join(dir, 'other'), '--quantize', 'int8']).code, 0);
  const other = await simulate({ bundle: COMMNET_BUNDLE, episodes: EPISODES, seed: 6, rollout: { bundle: join(dir, 'other'), strategy: shadowFirst(0.9) } });
  const r = other.rollout!;
  t.equal(r.outcome, 'aborted');
  t.match(r.abort!.reason, /the shadow stage failed its gate: agent_\d: shadow agreement \d+\.\d % < 90\.0 %/);
  t.equal(r.stages.length, 1, 'no stage after the shadow one');
  t.ok(r.versions.every((v) => Object.values(v.versions).every((b) => b === 'spread-commnet 1.0.0')), 'no agent ever ran the candidate');
  t.same(other.episode_team_returns, nominal.episode_team_returns, 'every episode played exactly as without the shadow: it was never acted on');
});
