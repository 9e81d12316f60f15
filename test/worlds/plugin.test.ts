// Worlds as plugins, and agents that come and go: the example plugin (examples/worlds/docking.js)
// loads, keeps the contract and reports its active mask; plugins that break the definition or the
// contract are refused with one error naming the module, the member and what was expected.

import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWorldPlugin, makeWorld, evaluateController, randomController, scriptedController, TeamChannel, Rng, worldIds, worldOptions } from '@fleetmind/worlds';
import { REPO_ROOT } from '../helpers/paths.js';

const docking = join(REPO_ROOT, 'examples', 'worlds', 'docking.js');

t.test('the docking plugin loads, keeps the contract, and its robots come and go', async (t) => {
  const id = await loadWorldPlugin(docking);
  t.equal(id, 'docking_v0');
  t.ok(worldIds().some((w) => w.id === id && w.module === docking), 'registered with its module');
  t.same(worldOptions(id)[0], { name: 'N', type: 'integer', minimum: 1, maximum: 32, default: 4, description: 'number of robots' }, 'its options as `fleetmind worlds` lists them');
  const world = makeWorld(id, { numEnvs: 1, config: { N: 3, stagger: 2 } });
  const first = world.reset(5);
  t.same([...first.active], [1, 0, 0], 'only the first robot has arrived');
  t.same(world.agents, ['robot_0'], 'agents: those taking part now; possibleAgents: all');
  t.equal(world.possibleAgents.length, 3);
  t.same([...first.observations[1]], [0, 0, 0, 0, 0, 0], 'a robot not yet arrived observes nothing');
  const actions = new Float32Array(3 * 2).fill(1);
  let r = world.step(actions);
  t.equal(r.rewards[1], 0, 'nor is it rewarded');
  r = world.step(actions);
  t.same([...r.active], [1, 1, 0], 'robot_1 arrives at step 2');
  // drive robot_0 onto its dock: it docks and leaves
  for (let k = 0; k < 40 && r.active[0]; k++) {
    const o = r.observations[0];
    const d = Math.hypot(o[2], o[3]);
    actions.set([Math.max(-1, Math.min(1, o[2] / Math.max(d, 0.1))), Math.max(-1, Math.min(1, o[3] / Math.max(d, 0.1)))], 0);
    r = world.step(actions);
  }
  t.equal(r.active[0], 0, 'a docked robot has left the episode');
  t.notOk(world.activeAgents(0).includes('robot_0'));

  // the scripted controller beats random play clearly (a baseline for training)
  const w = makeWorld(id, { numEnvs: 100, autoReset: false });
  const scripted = evaluateController(w, scriptedController(w), 0).agent_return_mean;
  const random = evaluateController(w, randomController(w, 0), 0).agent_return_mean;
  t.ok(scripted > random + 20, `scripted ${scripted.toFixed(2)} vs random ${random.toFixed(2)}`);

  // snapshots are the world's own JSON, and restore exactly
  const a = makeWorld(id, { numEnvs: 1 });
  a.reset(3);
  a.step(new Float32Array(8).fill(0.5));
  const snap = JSON.parse(JSON.stringify(a.snapshot(0)));
  t.match(snap, { steps: 1, robots: [{ state: 'driving' }, { state: 'waiting' }, { state: 'waiting' }, { state: 'waiting' }] });
  const b = makeWorld(id, { numEnvs: 1 });
  b.reset(99);
  b.setState(0, snap);
  t.same(b.snapshot(0), a.snapshot(0));
  t.throws(() => b.setState(0, { steps: 0, robots: [] }), /snapshot\.robots must list 4 robots/);
});

t.test('CommNet masks: nobody hears an agent that is not in the episode, and it hears nobody', async (t) => {
  const id = await loadWorldPlugin(docking);
  const world = makeWorld(id, { numEnvs: 1, config: { N: 3, stagger: 1 } });
  world.reset(1);
  world.step(new Float32Array(6)); // robot_1 arrives; robot_2 not yet
  const channel = new TeamChannel(world, [0, 1, 2], { rounds: 1, msgDropout: 0, commRadius: null, agentDropout: 0 });
  const mask = channel.sample(new Rng(1));
  // [E=1, K=1, 3, 3]: i hears j
  t.same([...mask], [0, 1, 0, 1, 0, 0, 0, 0, 0]);
});

t.test('plugins that break the definition or the contract are refused with the module, the member and what was expected', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-plugin-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const source = readFileSync(docking, 'utf8');
  // .mjs: ES modules wherever they are (a .js file is one only inside a "type": "module" package)
  const write = (name: string, text: string) => { writeFileSync(join(dir, name), text); return join(dir, name); };
  const cases: [string, string, RegExp][] = [
    ['no-default.mjs', 'export const world = {};', /no-default\.mjs: its default export must be the world definition/],
    ['bad-id.mjs', source.replace("id: 'docking_v0',\n  summary", "id: 'Docking',\n  summary"), /bad-id\.mjs: id must be a versioned world id such as "my_task_v0"/],
    ['no-core.mjs', 'export default { id: "x_v0", summary: "x" };', /no-core\.mjs: makeCore must be a function/],
    ['no-observe.mjs', source.replace('observe(e, i, out, offset) {', 'look(e, i, out, offset) {'), /no-observe\.mjs: the core from makeCore has no method observe\(\)/],
    ['bad-option.mjs', source.replace("default: 4, description: 'number of robots'", "default: 0, description: 'number of robots'"), /bad-option\.mjs: options\.N\.default 0 is not a valid integer ≥ 1/],
    ['bad-description.mjs', source.replace("default: 4, description: 'number of robots'", "default: 4, description: 4"), /bad-description\.mjs: options\.N\.description must be a string/],
    ['random.mjs', source.replace('r -= Math.hypot(', 'r -= Math.random() + Math.hypot('), /random\.mjs: docking_v0 breaks the world contract: step 1: two worlds reset with seed 7 disagree \(not deterministic\)/],
    ['forgets.mjs', source.replace('this.pos.set(r.pos, k * 2);', ''), /forgets\.mjs: docking_v0 breaks the world contract: setState\(snapshot\(0\)\) does not reproduce/],
    ['syntax.mjs', 'export default {', /syntax\.mjs: cannot be loaded as an ES module/],
  ];
  for (const [name, text, expected] of cases) {
    await t.rejects(loadWorldPlugin(write(name, text)), { message: expected, code: 'FM_ERR_WORLD' }, name);
  }
  await t.rejects(loadWorldPlugin(join(dir, 'missing.mjs')), { message: /missing\.mjs: no such file/ });
  const clash = write('clash.mjs', source.replace("id: 'docking_v0',\n  summary", "id: 'simple_spread_v3',\n  summary").replace("this.id = 'docking_v0'", "this.id = 'simple_spread_v3'"));
  await t.rejects(loadWorldPlugin(clash), { message: /world id "simple_spread_v3" is taken by a built-in world/ });
});
