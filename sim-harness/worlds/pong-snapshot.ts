// A Pong env's snapshot: the ball (x, y, vx, vy), every paddle's height, the score, the rally so
// far and the serves' random stream. Parsed with a schema when restored and checked against the game.

import { z } from 'zod';
import { WorldError, type WorldSnapshot } from './types.js';
import { parseWorldSnapshot } from './checkpoint-schema.js';

const finite = z.number().finite();
const count = z.number().int().nonnegative();

export const pongSnapshotSchema = z.looseObject({
  ball: z.tuple([finite, finite, finite, finite]),
  paddles: z.array(finite),
  score: z.tuple([count, count]),
  rally: count,
  serveRng: z.tuple([count, count, count, count]).refine((v) => v.every((x) => x <= 0xffffffff), 'four unsigned 32-bit integers'),
});

export type PongSnapshot = z.infer<typeof pongSnapshotSchema>;

export function parsePongSnapshot(worldId: string, snapshot: WorldSnapshot, paddles: number, pointsToWin: number): PongSnapshot {
  const s = parseWorldSnapshot(worldId, pongSnapshotSchema, snapshot);
  if (s.paddles.length !== paddles) throw new WorldError(`${worldId}: snapshot.paddles must hold ${paddles} heights, got ${s.paddles.length}`);
  if (s.score.some((points) => points >= pointsToWin)) throw new WorldError(`${worldId}: snapshot.score ${JSON.stringify(s.score)} is a finished game (first to ${pointsToWin})`);
  return s;
}
