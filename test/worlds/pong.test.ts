import t from 'tap';
import { constantController, makeWorld, parallelApiCheck, randomController, scriptedController, WorldError, type Controller, type World } from '@fleetmind/worlds';

const pong = (numEnvs: number, config: Record<string, unknown> = {}) => makeWorld('pong_v0', { numEnvs, autoReset: false, config });

/** Plays whole games, the left side with one controller and the right with another; the left's wins, the right's, and unfinished games. */
function playGames(world: World, left: Controller, right: Controller, seed: number): { left: number; right: number; unfinished: number } {
  const n = world.possibleAgents.length;
  const perSide = n / 2;
  const a = new Int32Array(world.numEnvs * n);
  const b = new Int32Array(world.numEnvs * n);
  const done = new Uint8Array(world.numEnvs);
  const wins = { left: 0, right: 0, unfinished: 0 };
  let { observations } = world.reset(seed);
  while (done.some((d) => d === 0)) {
    left.act(observations, a);
    right.act(observations, b);
    for (let k = 0; k < a.length; k++) if (k % n >= perSide) a[k] = b[k];
    const r = world.step(a);
    observations = r.observations;
    for (let e = 0; e < world.numEnvs; e++) {
      if (done[e] || !r.episodeEnded[e]) continue;
      done[e] = 1;
      if (r.infos.left_wins[e]) wins.left++;
      else if (r.infos.right_wins[e]) wins.right++;
      else wins.unfinished++;
    }
  }
  return wins;
}

/**
 * A policy that a learner can find: meet the ball where it will cross the paddle line (walls
 * included), with the paddle's edge, so that it leaves at a steep angle the scripted paddle cannot follow.
 */
function edgeHitter(world: World, side: 'left' | 'right'): Controller {
  const n = world.possibleAgents.length;
  const d = world.observationSpace(0).shape[0];
  const agents = world.possibleAgents.map((a, i) => (a.startsWith(side) ? i : -1)).filter((i) => i >= 0);
  // just inside the paddle's reach (half-length 0.2 alone, 0.15 with a mate, plus the ball's 0.02)
  const edge = agents.length === 1 ? 0.18 : 0.13;
  return {
    act(observations, actions) {
      for (let e = 0; e < world.numEnvs; e++) {
        for (const i of agents) {
          const o = observations[i].subarray(e * d, e * d + d);
          const [selfY, ballX, ballY, vx, vy] = [o[0], o[1], o[2], o[3] / 10, o[4] / 10];
          let target = 0;
          if (vx < 0) {
            let y = ballY + (vy * (ballX + 0.9)) / -vx;
            for (let k = 0; k < 10; k++) y = y > 0.98 ? 1.96 - y : y < -0.98 ? -1.96 - y : y;
            target = y + (y > 0 ? -edge : edge);
          }
          actions[e * n + i] = target > selfY + 0.02 ? 0 : target < selfY - 0.02 ? 2 : 1;
        }
      }
    },
  };
}

t.test('pong_v0 with one and two paddles a side keeps the world contract', (t) => {
  for (const paddlesPerSide of [1, 2]) t.doesNotThrow(() => parallelApiCheck(() => makeWorld('pong_v0', { numEnvs: 3, config: { paddlesPerSide } })), `${paddlesPerSide} a side`);
  t.end();
});

t.test('zero-sum between the sides, cooperative within one: every point is +1 to each scorer and −1 to each conceder', (t) => {
  const world = makeWorld('pong_v0', { numEnvs: 20, config: { paddlesPerSide: 2 } });
  t.same(world.possibleAgents, ['left_0', 'left_1', 'right_0', 'right_1']);
  t.same(world.roles, ['left', 'left', 'right', 'right']);
  const random = randomController(world, 5);
  const actions = new Int32Array(20 * 4);
  let { observations } = world.reset(1);
  let points = 0;
  for (let step = 0; step < 600; step++) {
    random.act(observations, actions);
    const r = world.step(actions);
    observations = r.observations;
    for (let e = 0; e < 20; e++) {
      const [l0, l1, r0, r1] = r.rewards.subarray(e * 4, e * 4 + 4);
      t.equal(l0 + l1 + r0 + r1, 0);
      if (l0 !== l1 || r0 !== r1) t.fail('teammates share every reward');
      if (l0 !== 0) {
        points++;
        t.equal(l0, r.infos.points_left[e] ? 1 : -1);
      }
    }
  }
  t.ok(points > 20, `points were scored (${points})`);
  t.end();
});

t.test('each side observes from its own end: a mirrored court gives the right side what the left saw', (t) => {
  const world = pong(1);
  world.reset(0);
  world.setState(0, { steps: 5, ball: [-0.4, 0.3, -0.02, 0.01], paddles: [0.1, -0.5], score: [1, 2], rally: 3, serveRng: [1, 2, 3, 4] });
  const original = world.observationsF64();
  world.setState(0, { steps: 5, ball: [0.4, 0.3, 0.02, 0.01], paddles: [-0.5, 0.1], score: [2, 1], rally: 3, serveRng: [1, 2, 3, 4] });
  const mirrored = world.observationsF64();
  t.same(Array.from(mirrored[1]), Array.from(original[0]), 'right in the mirror = left');
  t.same(Array.from(mirrored[0]), Array.from(original[1]), 'left in the mirror = right');
  t.same(world.observationFields(0), ['self_y', 'ball_x', 'ball_y', 'ball_vx', 'ball_vy', 'opponent_0_y', 'own_points', 'opponent_points']);
  t.end();
});

t.test('observeIntercept: each side also observes where the ball will cross the paddle line it heads for, walls folded in', (t) => {
  const world = pong(1, { observeIntercept: true });
  t.same(world.observationFields(0), ['self_y', 'ball_x', 'ball_y', 'ball_vx', 'ball_vy', 'ball_y_at_line', 'opponent_0_y', 'own_points', 'opponent_points']);
  world.reset(0);
  const stay = new Int32Array([1, 1]);
  // two flights past paddles that stand aside: toward the left line off both walls, toward the right off one
  const flights = [
    { ball: [0.5, 0, -0.02, 0.045], paddles: [0.8, 0] },
    { ball: [-0.3, -0.6, 0.025, -0.03], paddles: [0, -0.8] },
  ];
  for (const { ball, paddles } of flights) {
    world.setState(0, { steps: 0, ball, paddles, score: [0, 0], rally: 0, serveRng: [1, 2, 3, 4] });
    const [left, right] = world.observationsF64();
    const predicted = left[5];
    t.equal(right[5], predicted, 'both sides are told the same height (heights are not mirrored)');
    let before = world.snapshot(0) as unknown as { ball: number[] };
    let now = before;
    while (Math.abs(now.ball[0]) < 0.9) {
      before = now;
      world.step(stay);
      now = world.snapshot(0) as unknown as { ball: number[] };
      if (Math.abs(now.ball[0]) < 0.9) t.ok(Math.abs(world.observationsF64()[0][5] - predicted) < 1e-9, 'the prediction holds along the flight');
    }
    const line = Math.sign(now.ball[0]) * 0.9;
    const crossed = before.ball[1] + ((line - before.ball[0]) / (now.ball[0] - before.ball[0])) * (now.ball[1] - before.ball[1]);
    t.ok(Math.abs(crossed - predicted) < 1e-9, `it crossed the line at ${crossed.toFixed(4)}, where predicted (${predicted.toFixed(4)})`);
  }
  t.equal(pong(1).observationFields(0).includes('ball_y_at_line'), false, 'off by default: bundles trained without it keep their inputs');
  t.end();
});

t.test('the documented step order: walls mirror the ball, a paddle returns it faster and at an angle set by where it met, a miss is a point and a serve toward the loser', (t) => {
  const world = pong(1, { pointsToWin: 5 });
  world.reset(0);
  const stay = new Int32Array([1, 1]);
  // off the top wall: y mirrored below 1 − radius, vy flipped
  world.setState(0, { steps: 0, ball: [0, 0.97, 0.01, 0.02], paddles: [0, 0], score: [0, 0], rally: 0, serveRng: [1, 2, 3, 4] });
  world.step(stay);
  let s = world.snapshot(0) as unknown as { ball: number[]; score: number[]; rally: number };
  t.ok(Math.abs(s.ball[1] - (2 * 0.98 - 0.99)) < 1e-12 && s.ball[3] === -0.02, `mirrored off the wall: ${s.ball}`);
  // square on the left paddle's centre: straight back, 5 % faster
  world.setState(0, { steps: 0, ball: [-0.88, 0, -0.03, 0], paddles: [0, 0], score: [0, 0], rally: 0, serveRng: [1, 2, 3, 4] });
  let r = world.step(stay);
  s = world.snapshot(0) as unknown as { ball: number[]; score: number[]; rally: number };
  t.equal(r.infos.hits[0], 1);
  t.ok(Math.abs(s.ball[2] - 0.0315) < 1e-12 && Math.abs(s.ball[3]) < 1e-12, `returned straight, 5 % faster: ${s.ball}`);
  t.ok(s.ball[0] > -0.9, 'mirrored back across the paddle line');
  // on the paddle's upper edge: sent off upward at up to 60°
  world.setState(0, { steps: 0, ball: [-0.88, 0.2, -0.03, 0], paddles: [0, 0], score: [0, 0], rally: 0, serveRng: [1, 2, 3, 4] });
  world.step(stay);
  s = world.snapshot(0) as unknown as { ball: number[]; score: number[]; rally: number };
  t.ok(Math.abs(Math.atan2(s.ball[3], s.ball[2]) - Math.PI / 3) < 1e-9, 'the edge returns it at 60°');
  // missed: the right side scores, the ball is served from the centre toward the left
  world.setState(0, { steps: 0, ball: [-0.95, 0.9, -0.06, 0], paddles: [-0.5, 0], score: [0, 0], rally: 4, serveRng: [1, 2, 3, 4] });
  r = world.step(stay);
  s = world.snapshot(0) as unknown as { ball: number[]; score: number[]; rally: number };
  t.same(Array.from(r.rewards), [-1, 1]);
  t.same(s.score, [0, 1]);
  t.equal(r.infos.rally[0], 4, 'the rally that ended');
  t.ok(s.ball[0] === 0 && s.ball[2] < 0, 'served from the centre toward the side that conceded');
  t.end();
});

t.test('a game snapshot resumes exactly, serves included', (t) => {
  // (a snapshot is one game's state: the next game's draws are the world's, in checkpoint())
  const a = pong(1, { pointsToWin: 100, maxCycles: 900 });
  const b = pong(1, { pointsToWin: 100, maxCycles: 900 });
  const random = randomController(a, 2);
  const actions = new Int32Array(2);
  let { observations } = a.reset(9);
  b.reset(0);
  const trace: number[][] = [];
  let points = 0;
  for (let step = 0; step < 800; step++) {
    if (step === 100) b.setState(0, a.snapshot(0));
    random.act(observations, actions);
    const r = a.step(actions);
    observations = r.observations;
    points += r.infos.points_left[0] + r.infos.points_right[0];
    if (step >= 100) trace.push([...r.observations[0], ...b.step(actions).observations[0]]);
  }
  t.ok(points >= 2, 'serves happened after the snapshot');
  t.ok(trace.every((row) => row.slice(0, 8).every((x, k) => x === row[8 + k])), 'both worlds played the same game');
  t.end();
});

t.test('the scripted paddle beats random and itself about evenly, and loses to a paddle that aims with its edge', (t) => {
  for (const paddlesPerSide of [1, 2]) {
    const world = pong(200, { paddlesPerSide });
    const random = playGames(world, randomController(world, 1), scriptedController(world), 3);
    t.ok(random.right >= 180, `${paddlesPerSide} a side: scripted beats random ${random.right}/200`);
    const even = playGames(world, scriptedController(world), scriptedController(world), 3);
    t.ok(Math.abs(even.left - even.right) <= 40, `scripted vs scripted: ${even.left} to ${even.right} (${even.unfinished} unfinished)`);
    const aimed = playGames(world, edgeHitter(world, 'left'), scriptedController(world), 3);
    t.ok(aimed.left >= 180, `an edge-aiming paddle beats scripted ${aimed.left}/200: the goal of ≥ 90 % is within reach`);
  }
  const world = pong(200);
  const still = playGames(world, constantController(world, 1), scriptedController(world), 3);
  t.equal(still.left, 0, 'a paddle that never moves never wins');
  t.end();
});

t.test('bad Pong options and snapshots are refused with the field', (t) => {
  t.throws(() => pong(1, { paddlesPerSide: 3 }), /paddlesPerSide/);
  const world = pong(1);
  world.reset(0);
  const bad = (snapshot: Record<string, unknown>, pattern: RegExp) => {
    try {
      world.setState(0, { ...world.snapshot(0), ...snapshot, steps: 0 });
      t.fail('accepted');
    } catch (err) {
      t.ok(err instanceof WorldError);
      t.match((err as Error).message, pattern);
    }
  };
  bad({ paddles: [0] }, /paddles must hold 2 heights/);
  bad({ score: [3, 0] }, /a finished game \(first to 3\)/);
  bad({ ball: [0, 0, Number.NaN, 0] }, /snapshot.ball.2/);
  t.end();
});
