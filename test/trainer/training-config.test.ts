import t from 'tap';
import { makeWorld } from '@fleetmind/worlds';
import {
  checkConfigFitsWorld, defaultMappoConfig, defaultQLearningConfig, resolveTrainingConfig, TrainingConfigError,
} from '@fleetmind/trainer/config';
import { checkpointSchema } from '@fleetmind/trainer';

t.test('a run configuration is the algorithm\'s defaults under the settings given, undefined ones left out', (t) => {
  const c = resolveTrainingConfig({ algo: 'qmix', world: 'simple_spread_v3', totalSteps: 1000, trainEvery: undefined });
  t.same(c, { ...defaultQLearningConfig, algo: 'qmix', totalSteps: 1000 });
  const m = resolveTrainingConfig({ algo: 'ippo', world: 'simple_tag_v3', actor: 'commnet', msgDropout: 0.3 });
  t.match(m, { algo: 'ippo', actor: 'commnet', msgDropout: 0.3, numEnvs: defaultMappoConfig.numEnvs });
  t.end();
});

t.test('a setting the algorithm does not take is refused by name, with the algorithms that take it', (t) => {
  const err = t.throws(() => resolveTrainingConfig({ algo: 'maddpg', world: 'simple_spread_v3', actor: 'commnet', prob: 0.3 })) as TrainingConfigError;
  t.ok(err instanceof TrainingConfigError);
  t.same(err.settings, ['actor', 'prob']);
  t.equal(err.reason, 'unknown');
  t.match(err.message, /actor, prob: not maddpg settings \(settings of mappo\/ippo\/iql\/vdn\/qmix\)/);
  t.equal(err.code, 'FM_ERR_CONFIG');
  t.end();
});

t.test('a value-based run\'s Q-network is an MLP or a GRU; a communicating actor is refused with the algorithms that train one', (t) => {
  t.match(resolveTrainingConfig({ algo: 'vdn', world: 'simple_spread_v3', actor: 'gru' }), { algo: 'vdn', actor: 'gru' });
  t.match(resolveTrainingConfig({ algo: 'iql', world: 'simple_spread_v3' }), { actor: 'mlp' }, 'an MLP unless asked');
  for (const actor of ['commnet', 'tarmac-gru']) {
    const err = refusal(() => resolveTrainingConfig({ algo: 'qmix', world: 'simple_spread_v3', actor }));
    t.same(err.settings, ['actor']);
    t.equal(err.reason, 'invalid');
    t.match(err.message, new RegExp(`qmix learns each agent's Q-network: actor "mlp" or "gru"; a communicating actor \\("${actor}"\\) is trained by mappo or ippo`));
  }
  t.end();
});

/** the TrainingConfigError fn throws */
function refusal(fn: () => unknown): TrainingConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TrainingConfigError) return err;
    throw err;
  }
  throw new Error('expected a TrainingConfigError');
}

t.test('values are checked by the algorithm\'s schema, and dependent settings need their partner', (t) => {
  t.match(refusal(() => resolveTrainingConfig({ algo: 'mappo', world: 'w', clip: -1 })), { reason: 'invalid', settings: ['clip'], message: /clip: Too small/ });
  t.match(refusal(() => resolveTrainingConfig({ algo: 'mappo', world: 'w', msgDropout: 0.3 })), { reason: 'needs', settings: ['msgDropout'], needs: 'actor' });
  t.match(refusal(() => resolveTrainingConfig({ algo: 'mappo', world: 'w', scriptedOpponent: 0.3 })), { reason: 'needs', needs: 'selfPlay' });
  t.ok(resolveTrainingConfig({ algo: 'mappo', world: 'w', scriptedOpponent: 0.3, selfPlay: true }));
  t.end();
});

t.test('a configuration is checked against its world before any work', (t) => {
  const selfPlay = resolveTrainingConfig({ algo: 'mappo', world: 'simple_spread_v3', selfPlay: true });
  t.match(refusal(() => checkConfigFitsWorld(selfPlay, makeWorld('simple_spread_v3'))), { reason: 'world', message: /two or more roles; simple_spread_v3 has one/ });
  t.doesNotThrow(() => checkConfigFitsWorld(selfPlay, makeWorld('simple_tag_v3')));
  const tabular = resolveTrainingConfig({ algo: 'iql-tabular', world: 'simple_spread_v3' });
  t.match(refusal(() => checkConfigFitsWorld(tabular, makeWorld('simple_spread_v3'))), { reason: 'world', message: /needs a world with a discrete state/ });
  t.end();
});

t.test('a checkpoint whose config has a key its algorithm does not know is refused', (t) => {
  const bad = checkpointSchema.safeParse({ config: { ...defaultMappoConfig, prob: 1 }, envSteps: 0, updates: 0, roles: [], loop: {} });
  t.notOk(bad.success);
  t.end();
});

t.test('train() validates a configuration a program built itself, before any work', async (t) => {
  const { train } = await import('@fleetmind/trainer');
  const { parseTrainingConfig } = await import('@fleetmind/trainer/config');
  await t.rejects(train({ ...defaultMappoConfig, totalSteps: 100, lr: -1 }), { code: 'FM_ERR_CONFIG', message: /lr: Too small/ });
  await t.rejects(train({ ...defaultMappoConfig, prob: 0.3 } as never), { code: 'FM_ERR_CONFIG', message: /Unrecognized key.*prob/ });
  t.match(refusal(() => parseTrainingConfig({ ...defaultQLearningConfig, extra: 1 })), { reason: 'unknown', settings: ['extra'] });
});
