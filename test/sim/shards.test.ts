// A fleet in shards on one host (sim --shards K): the world in this process speaks the wire
// contract over the broker, the agents run in K `fleetmind fleet --agents` processes, and a
// lockstep run plays exactly the one-process run's episodes. What sharding cannot do yet is
// refused before anything starts. (Across hosts: shards-netns.test.ts.)

import t from 'tap';
import { shardAgents, simulate } from '@fleetmind/sim-harness/fleet';
import { COMMNET_BUNDLE } from '../helpers/agents.js';
import { runCli } from '../helpers/cli.js';

t.test('agents are dealt to shards in turn, so a team spans them', (t) => {
  const ids = ['agent_0', 'agent_1', 'agent_2', 'agent_3', 'agent_4'];
  t.same([0, 1].map((k) => shardAgents(ids, 2, k)), [['agent_0', 'agent_2', 'agent_4'], ['agent_1', 'agent_3']]);
  t.same(shardAgents(ids, 1, 0), ids);
  t.end();
});

t.test('two shards play the one-process run\'s episodes exactly, every message counted', async (t) => {
  const one = await simulate({ bundle: COMMNET_BUNDLE, episodes: 5, seed: 7 });
  const sharded = await simulate({ bundle: COMMNET_BUNDLE, episodes: 5, seed: 7, shards: 2 });
  t.equal(sharded.shards, 2);
  t.same(sharded.episode_team_returns, one.episode_team_returns);
  t.same(sharded.tiers, one.tiers, 'every decision heard the whole team across processes');
  t.equal(sharded.missing_actions, 0);
  t.same(sharded.messages, one.messages, 'the same messages sent and delivered, the same bytes');
  t.equal(sharded.agent_counters, null, 'the agents\' own counters stay in their shards');
});

t.test('with auth on, the shards connect as the run\'s fleet user and the world as its world user: the same episodes', async (t) => {
  const one = await simulate({ bundle: COMMNET_BUNDLE, episodes: 2, seed: 7 });
  const sharded = await simulate({ bundle: COMMNET_BUNDLE, episodes: 2, seed: 7, shards: 2, auth: true });
  t.same(sharded.episode_team_returns, one.episode_team_returns);
  t.same(sharded.tiers, one.tiers, 'every decision heard the whole team through the broker\'s ACLs');
  t.equal(sharded.missing_actions, 0);
});

t.test('what sharding cannot do yet is refused before anything starts', async (t) => {
  const refused = (extra: string[], why: RegExp) => {
    const r = runCli(['sim', '--bundle', COMMNET_BUNDLE, '--episodes', '1', ...extra]);
    t.not(r.code, 0, extra.join(' '));
    t.match(r.stderr, why, extra.join(' '));
  };
  refused(['--shards', '0'], /option '--shards <k>' argument '0' is invalid. expected a number of processes \(1 or more\) or "elsewhere", got "0"/);
  refused(['--shards', 'two'], /got "two"/);
  refused(['--shards', '2', '--faults', 'sim-harness/faults/examples/crash-10pct.yaml'], /--shards with a fault plan .*: not yet/);
  refused(['--shards', '2', '--mode', 'procs'], /--shards and --mode/);
  refused(['--shards', 'elsewhere'], /shards on other hosts need a broker they reach too; give --broker/);
  refused(['--shards', '2', '--fleet', 'a/b'], /--fleet: "a\/b" is not a fleet id/);
  const fleet = runCli(['fleet', '--bundle', COMMNET_BUNDLE, '--agents', 'agent_0,agent_9']);
  t.equal(fleet.code, 2);
  t.match(fleet.stderr, /the bundle has no agent agent_9 \(its agents: agent_0, agent_1, agent_2\)/);
});
