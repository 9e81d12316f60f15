import t from 'tap';
import { computeGae } from '@fleetmind/trainer';

const close = (t: Tap, actual: ArrayLike<number>, expected: number[], what: string) =>
  expected.forEach((e, i) => t.ok(Math.abs(actual[i] - e) < 1e-6, `${what}[${i}] = ${actual[i]}, expected ${e}`));
type Tap = { ok(cond: boolean, msg: string): void };

// T = 3, one stream: rewards 1, 0, 2; values 0.5, 0.4, 0.3; V(s_3) = 0.2; γ = 0.9, λ = 0.8
const base = { rewards: Float32Array.from([1, 0, 2]), values: Float32Array.from([0.5, 0.4, 0.3]), lastValues: Float32Array.from([0.2]), gamma: 0.9, lambda: 0.8 };

t.test('GAE over an unfinished episode matches the hand-worked recursion', (t) => {
  // δ = 0.86, −0.13, 1.88; A2 = 1.88, A1 = −0.13 + 0.72·1.88 = 1.2236, A0 = 0.86 + 0.72·1.2236 = 1.740992
  const { advantages, returns } = computeGae({ ...base, dones: Uint8Array.from([0, 0, 0]) });
  close(t, advantages, [1.740992, 1.2236, 1.88], 'A');
  close(t, returns, [2.240992, 1.6236, 2.18], 'returns');
  t.end();
});

t.test('a terminated episode neither bootstraps nor carries advantage back across its end', (t) => {
  // ends at t=1: A1 = δ1 = 0 − 0.4; A0 = 0.86 + 0.72·(−0.4) = 0.572
  const { advantages } = computeGae({ ...base, dones: Uint8Array.from([0, 1, 0]) });
  close(t, advantages, [0.572, -0.4, 1.88], 'A');
  t.end();
});

t.test('a truncated episode bootstraps from the value of its final observation', (t) => {
  // truncated at t=1 with V(final) = 1: δ1 = 0.9·1 − 0.4 = 0.5; A0 = 0.86 + 0.72·0.5 = 1.22
  const { advantages } = computeGae({
    ...base, dones: Uint8Array.from([0, 1, 0]), truncated: Uint8Array.from([0, 1, 0]), truncationValues: Float32Array.from([0, 1, 0]),
  });
  close(t, advantages, [1.22, 0.5, 1.88], 'A');
  t.end();
});

t.test('streams are independent and laid out [T, B]', (t) => {
  const r = computeGae({
    rewards: Float32Array.from([1, 5, 0, 5, 2, 5]), values: Float32Array.from([0.5, 0, 0.4, 0, 0.3, 0]),
    dones: new Uint8Array(6), lastValues: Float32Array.from([0.2, 0]), gamma: 0.9, lambda: 0.8,
  });
  close(t, [r.advantages[0], r.advantages[2], r.advantages[4]], [1.740992, 1.2236, 1.88], 'stream 0');
  t.ok(r.advantages[1] > r.advantages[3], 'stream 1 accumulates its own rewards');
  t.throws(() => computeGae({ ...base, dones: new Uint8Array(2) }), { message: /must all be \[T, 1\]/ });
  t.end();
});
