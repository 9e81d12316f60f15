// Value-based learning, short and seeded: IQL, VDN and QMIX (and QMIX with GRU agents) each clear
// the random policy by a clear margin on simple_spread. Apart from value-based.test.ts (resume,
// export, tabular IQL) so that the two run side by side.

import t from 'tap';
import { defaultQLearningConfig, isGruWeights, train, trainQLearning, useBackend } from '@fleetmind/trainer';
import { againstRandom } from '../helpers/against-random.js';

t.before(async () => { await useBackend('auto'); });

// the defaults on a short budget: for each, about the fewest steps that clear random by the margin
// on seed 2 (IQL, which learns no joint value, needs twice VDN's and QMIX's)
const short = (totalSteps: number) => ({ totalSteps, learningStarts: Math.round(totalSteps / 15), epsilonSteps: Math.round(totalSteps / 2), seed: 2 });
const budget = { iql: 30_000, vdn: 15_000, qmix: 15_000 };

for (const algo of ['iql', 'vdn', 'qmix'] as const) {
  t.test(`a short seeded ${algo.toUpperCase()} run on simple_spread beats the random policy by a clear margin`, async (t) => {
    const checkpoint = await train({ ...defaultQLearningConfig, ...short(budget[algo]), algo });
    t.equal(checkpoint.envSteps, budget[algo]);
    const { trained, random } = againstRandom(checkpoint);
    t.ok(trained.agent_return_mean > random.agent_return_mean + 2, `${algo}: ${trained.agent_return_mean.toFixed(2)} vs random ${random.agent_return_mean.toFixed(2)} per agent`);
  });
}

t.test('QMIX with GRU agents (PyMARL\'s RNN agent) learns on whole episodes: a short seeded run beats the random policy by a clear margin', async (t) => {
  // two-thirds of the feed-forward QMIX's budget suffices: a GRU update is the dearest of the file's
  const checkpoint = await trainQLearning({ ...defaultQLearningConfig, ...short(10_000), algo: 'qmix', actor: 'gru', hidden: [32], batchEpisodes: 8 });
  t.ok(isGruWeights(checkpoint.roles[0].actor), 'the Q-network is a GRU');
  t.equal(checkpoint.roles[0].memory?.state.length, defaultQLearningConfig.numEnvs * 3 * 32, 'its acting memory is in the checkpoint');
  const { trained, random } = againstRandom(checkpoint);
  t.ok(trained.agent_return_mean > random.agent_return_mean + 2, `qmix-gru: ${trained.agent_return_mean.toFixed(2)} vs random ${random.agent_return_mean.toFixed(2)} per agent`);
});
