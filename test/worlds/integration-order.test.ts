// simple_spread's `integration: 'original'`: the original MPE's step order (the MAPPO paper's code
// runs it), checked step by step against a plain transcription of that core.py, and against MPE2's.

import t from 'tap';
import { makeWorld, parseParticleSnapshot, Rng } from '@fleetmind/worlds';

const DT = 0.1;
const KEEP = 1 - 0.25;
const SIZE = 0.15;

/** one step of the original MPE core.py for simple_spread's agents: forces, then v ← v·keep + f·dt, then p ← p + v·dt */
function originalStep(pos: number[][], vel: number[][], actions: number[]): void {
  const force = actions.map((a) => [((a === 2 ? 1 : 0) - (a === 1 ? 1 : 0)) * 5, ((a === 4 ? 1 : 0) - (a === 3 ? 1 : 0)) * 5]);
  for (let a = 0; a < pos.length; a++) {
    for (let b = a + 1; b < pos.length; b++) {
      const dx = pos[a][0] - pos[b][0];
      const dy = pos[a][1] - pos[b][1];
      const dist = Math.sqrt(dx * dx + dy * dy);
      const z = -(dist - 2 * SIZE) / 1e-3;
      const penetration = (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) * 1e-3;
      const fx = (100 * dx / dist) * penetration;
      const fy = (100 * dy / dist) * penetration;
      force[a][0] += fx; force[a][1] += fy;
      force[b][0] -= fx; force[b][1] -= fy;
    }
  }
  for (let i = 0; i < pos.length; i++) {
    for (let k = 0; k < 2; k++) {
      vel[i][k] = vel[i][k] * KEEP + force[i][k] * DT;
      pos[i][k] = pos[i][k] + vel[i][k] * DT;
    }
  }
}

t.test("simple_spread integration 'original': the velocity first, then the position with the new velocity, as the original MPE's core.py", (t) => {
  const E = 16;
  const original = makeWorld('simple_spread', { numEnvs: E, config: { integration: 'original' } });
  const pettingzoo = makeWorld('simple_spread', { numEnvs: E });
  original.reset(7);
  pettingzoo.reset(7);
  const start = Array.from({ length: E }, (_, e) => parseParticleSnapshot(original.id, original.snapshot(e)));
  t.same(start, Array.from({ length: E }, (_, e) => parseParticleSnapshot(pettingzoo.id, pettingzoo.snapshot(e))), 'the same starts as MPE2');
  const pos = start.map((s) => s.agentPos.map((p) => [...p]));
  const vel = start.map((s) => s.agentVel.map((v) => [...v]));
  const rng = new Rng(3);
  let worst = 0;
  let apart = 0;
  for (let step = 0; step < 24; step++) {
    const actions = Int32Array.from({ length: E * 3 }, () => rng.int(5));
    original.step(actions);
    pettingzoo.step(actions);
    for (let e = 0; e < E; e++) {
      originalStep(pos[e], vel[e], Array.from(actions.subarray(e * 3, e * 3 + 3)));
      const mine = parseParticleSnapshot(original.id, original.snapshot(e));
      const theirs = parseParticleSnapshot(pettingzoo.id, pettingzoo.snapshot(e));
      for (let i = 0; i < 3; i++) {
        for (let k = 0; k < 2; k++) {
          worst = Math.max(worst, Math.abs(mine.agentPos[i][k] - pos[e][i][k]), Math.abs(mine.agentVel[i][k] - vel[e][i][k]));
          apart = Math.max(apart, Math.abs(mine.agentPos[i][k] - theirs.agentPos[i][k]));
        }
      }
    }
  }
  t.ok(worst < 1e-12, `positions and velocities follow the original core.py (worst |Δ| ${worst.toExponential(2)} over 24 steps of 16 envs)`);
  t.ok(apart > 0.01, `and differ from MPE2's (by up to ${apart.toFixed(3)})`);
  // one push from rest: the original moves the agent in that step, MPE2 from the next
  const a = makeWorld('simple_spread', { numEnvs: 1, config: { integration: 'original' } });
  const b = makeWorld('simple_spread', { numEnvs: 1 });
  a.reset(1);
  b.reset(1);
  const x0 = parseParticleSnapshot(a.id, a.snapshot(0)).agentPos[0][0];
  a.step(Int32Array.of(2, 0, 0));
  b.step(Int32Array.of(2, 0, 0));
  const moved = parseParticleSnapshot(a.id, a.snapshot(0)).agentPos[0][0] - x0;
  const movedPz = parseParticleSnapshot(b.id, b.snapshot(0)).agentPos[0][0] - x0;
  t.ok(Math.abs(moved - 0.05) < 1e-12 && movedPz === 0, `a +x push from rest moves the agent ${moved.toFixed(3)} at once (MPE2: ${movedPz})`);
  t.throws(() => makeWorld('simple_spread', { config: { integration: 'verlet' } }), { message: /integration/ });
  t.end();
});
