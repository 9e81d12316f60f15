// Snapshots of a ParticleWorld env, the MPE worlds' own: positions and velocities of the agents
// and positions of the other entities (landmarks, obstacles), [x, y] each. Parsed with a schema
// when restored; the counts are checked against the world.

import { z } from 'zod';
import { WorldError, type WorldPositions, type WorldSnapshot } from '../types.js';
import { parseWorldSnapshot } from '../checkpoint-schema.js';
import type { ParticleWorld } from './particle-world.js';

const points = z.array(z.tuple([z.number().finite(), z.number().finite()]));

export const particleSnapshotSchema = z.looseObject({ agentPos: points, agentVel: points, landmarkPos: points });

export type ParticleSnapshot = z.infer<typeof particleSnapshotSchema>;

export function snapshotParticles(pw: ParticleWorld, e: number): ParticleSnapshot {
  const m = pw.numEntities;
  const point = (arr: Float64Array, i: number): [number, number] => [arr[(e * m + i) * 2], arr[(e * m + i) * 2 + 1]];
  const agents = [...Array(pw.numAgents).keys()];
  const others = [...Array(m - pw.numAgents).keys()].map((j) => j + pw.numAgents);
  return {
    agentPos: agents.map((i) => point(pw.pos, i)),
    agentVel: agents.map((i) => point(pw.vel, i)),
    landmarkPos: others.map((i) => point(pw.pos, i)),
  };
}

export function particlePositions(pw: ParticleWorld, e: number): WorldPositions {
  const { agentPos, landmarkPos } = snapshotParticles(pw, e);
  return { agents: agentPos, others: landmarkPos };
}

/** An MPE snapshot's fields, or a WorldError naming the one that is wrong. */
export function parseParticleSnapshot(worldId: string, s: WorldSnapshot): ParticleSnapshot {
  return parseWorldSnapshot(worldId, particleSnapshotSchema, s, ' (an [x, y] pair of finite numbers per entity)');
}

export function setParticles(worldId: string, pw: ParticleWorld, e: number, snapshot: WorldSnapshot): void {
  const s = parseParticleSnapshot(worldId, snapshot);
  const m = pw.numEntities;
  const expect = (what: string, rows: readonly unknown[], count: number) => {
    if (rows.length !== count) throw new WorldError(`${worldId}: snapshot.${what} must hold ${count} [x, y] pairs, got ${rows.length}`);
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
