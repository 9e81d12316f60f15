import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeWorld, parseParticleSnapshot } from '@fleetmind/worlds';
import { loadBundle, resizeBundle } from '@fleetmind/models';
import { REPO_ROOT } from '../helpers/paths.js';

t.test('simple_spread with neighbours: the k nearest landmarks and agents, nearest first, for any fleet size', (t) => {
  const world = makeWorld('simple_spread', { config: { N: 40, neighbours: 3 } });
  const { observations } = world.reset(5);
  t.equal(observations[0].length, 4 + 6 + 6 + 6, 'the size depends on k only');
  t.equal(world.observationFields(7).length, 22);
  t.same(world.observationFields(0).slice(4, 8), ['landmark_near_0_rel.x', 'landmark_near_0_rel.y', 'landmark_near_1_rel.x', 'landmark_near_1_rel.y']);
  const snap = parseParticleSnapshot(world.id, world.snapshot(0));
  for (const i of [0, 13, 39]) {
    const o = observations[i].subarray(0, 22);
    const [px, py] = snap.agentPos[i];
    const landmarkD = snap.landmarkPos.map(([x, y]) => Math.hypot(x - px, y - py)).sort((a, b) => a - b);
    const agentD = snap.agentPos.filter((_, j) => j !== i).map(([x, y]) => Math.hypot(x - px, y - py)).sort((a, b) => a - b);
    for (let j = 0; j < 3; j++) {
      t.ok(Math.abs(Math.hypot(o[4 + 2 * j], o[5 + 2 * j]) - landmarkD[j]) < 1e-5, `agent ${i}: landmark ${j} is the ${j + 1}th nearest`);
      t.ok(Math.abs(Math.hypot(o[10 + 2 * j], o[11 + 2 * j]) - agentD[j]) < 1e-5, `agent ${i}: agent ${j} is the ${j + 1}th nearest`);
    }
  }
  t.throws(() => makeWorld('simple_spread', { config: { N: 3, neighbours: 3 } }), { message: /neighbours must be at most N - 1/ });
  t.throws(() => makeWorld('simple_spread', { config: { N: 200 } }), { message: /more than 128 agents need neighbours/ });
  t.end();
});

t.test('a size-agnostic bundle serves a fleet of another size; others are refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-resize-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(REPO_ROOT, 'bench', 'bundles', 'spread-nearest3-commnet');
  const m = resizeBundle(src, join(dir, 'x50'), 50);
  t.equal(m.roles[0].agents.length, 50);
  t.equal(m.communication!.inbox_capacity, 3);
  const bundle = await loadBundle(join(dir, 'x50'));
  t.equal(bundle.agent('agent_49').index, 49, 'the resized bundle loads and knows its 50 agents');
  await bundle.close();
  t.throws(() => resizeBundle(join(REPO_ROOT, 'models', 'zoo', 'spread-commnet'), join(dir, 'no'), 50), { message: /k-nearest observations/ });
});
