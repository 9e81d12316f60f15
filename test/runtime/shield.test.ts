import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest } from '@fleetmind/models';
import { mpeShield } from '@fleetmind/runtime';
import { COMMNET_BUNDLE } from '../helpers/agents.js';

const manifest = parseManifest(readFileSync(join(COMMNET_BUNDLE, 'manifest.json'), 'utf8'));
const role = manifest.roles[0];
const field = (name: string) => role.observation.fields.indexOf(name);
const ACTION = Object.fromEntries(role.action.names.map((n, k) => [n, k]));

function observation(set: Record<string, number>): Float32Array {
  const o = new Float32Array(role.observation.size).fill(0.9); // everything far away by default
  o[field('self_vel.x')] = 0;
  o[field('self_vel.y')] = 0;
  for (const [name, v] of Object.entries(set)) o[field(name)] = v;
  return o;
}

t.test('the MPE shield: a speed limit along the velocity', (t) => {
  const shield = mpeShield(role, { maxSpeed: 0.5 });
  const fast = observation({ 'self_vel.x': 0.6 });
  t.equal(shield({ observation: fast, action: ACTION.right, vector: null, role }), role.safe_action, 'accelerating further right at 0.6 > 0.5 is overridden');
  t.equal(shield({ observation: fast, action: ACTION.left, vector: null, role }), null, 'braking is allowed');
  t.equal(shield({ observation: fast, action: ACTION.up, vector: null, role }), null, 'a perpendicular push is allowed');
  t.equal(shield({ observation: observation({ 'self_vel.x': 0.4 }), action: ACTION.right, vector: null, role }), null, 'below the limit anything goes');
  t.end();
});

t.test('the MPE shield: no move toward a neighbour closer than the minimum distance', (t) => {
  const shield = mpeShield(role, { minDistance: 0.2 });
  const close = observation({ 'agent_1_rel.x': 0, 'agent_1_rel.y': -0.1 });
  t.equal(shield({ observation: close, action: ACTION.down, vector: null, role }), role.safe_action, 'driving into the neighbour below is overridden');
  t.equal(shield({ observation: close, action: ACTION.up, vector: null, role }), null, 'moving away is allowed');
  const landmark = observation({ 'landmark_0_rel.x': 0.05, 'landmark_0_rel.y': 0 });
  t.equal(shield({ observation: landmark, action: ACTION.right, vector: null, role }), null, 'landmarks are not neighbours: covering them is the task');
  t.end();
});

t.test('the MPE shield refuses an observation layout it cannot read', (t) => {
  const other = { ...role, observation: { size: 2, fields: ['a', 'b'] } };
  t.throws(() => mpeShield(other, { maxSpeed: 1 }), { message: /needs self_vel.x\/y/, code: 'FM_ERR_SHIELD' });
  t.end();
});
