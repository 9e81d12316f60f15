// Snapshots of a ParticleWorld env: positions/velocities in, positions/velocities out.

import { WorldError, type WorldSnapshot } from '../types.js';
import type { ParticleWorld } from './particle-world.js';

export function snapshotParticles(pw: ParticleWorld, e: number): Omit<WorldSnapshot, 'steps'> {
  const m = pw.numEntities;
  const point = (arr: Float64Array, i: number) => [arr[(e * m + i) * 2], arr[(e * m + i) * 2 + 1]];
  const agents = [...Array(pw.numAgents).keys()];
  const others = [...Array(m - pw.numAgents).keys()].map((j) => j + pw.numAgents);
  return {
    agentPos: agents.map((i) => point(pw.pos, i)),
    agentVel: agents.map((i) => point(pw.vel, i)),
    landmarkPos: others.map((i) => point(pw.pos, i)),
  };
}

export function setParticles(worldId: string, pw: ParticleWorld, e: number, s: WorldSnapshot): void {
  const m = pw.numEntities;
  const expect = (what: string, rows: readonly (readonly number[])[] | undefined, count: number) => {
    if (!Array.isArray(rows) || rows.length !== count) {
      throw new WorldError(`${worldId}: snapshot.${what} must hold ${count} [x, y] pairs, got ${Array.isArray(rows) ? rows.length : typeof rows}`);
    }
    rows.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== 2 || !row.every(Number.isFinite)) {
        throw new WorldError(`${worldId}: snapshot.${what}[${i}] must be two finite numbers, got ${JSON.stringify(row)}`);
      }
    });
  };
  expect('agentPos', s.agentPos, pw.numAgents);
  expect('agentVel', s.agentVel, pw.numAgents);
  expect('landmarkPos', s.landmarkPos, m - pw.numAgents);
  const put = (arr: Float64Array, i: number, xy: readonly number[]) => {
    arr[(e * m + i) * 2] = xy[0];
    arr[(e * m + i) * 2 + 1] = xy[1];
  };
  s.agentPos.forEach((xy, i) => put(pw.pos, i, xy));
  s.agentVel.forEach((xy, i) => put(pw.vel, i, xy));
  s.landmarkPos.forEach((xy, j) => {
    put(pw.pos, pw.numAgents + j, xy);
    put(pw.vel, pw.numAgents + j, [0, 0]);
  });
}
