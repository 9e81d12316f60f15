import t from 'tap';
import { ValueNormalizer } from '@fleetmind/trainer';

t.test('running statistics merged batch by batch equal those of all the data at once', (t) => {
  const data = Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10 + i / 100);
  const v = new ValueNormalizer(0);
  for (let i = 0; i < data.length; i += 137) v.update(data.slice(i, i + 137));
  const mean = data.reduce((a, b) => a + b, 0) / data.length;
  const variance = data.reduce((a, b) => a + (b - mean) ** 2, 0) / data.length;
  t.ok(Math.abs(v.runningMean - mean) < 1e-9);
  t.ok(Math.abs(v.variance - variance) < 1e-9);
  t.end();
});

t.test('normalize and denormalize are inverse, and normalized targets have mean 0 and std 1', (t) => {
  const v = new ValueNormalizer();
  const targets = [-30, -20, -10, -5];
  v.update(targets);
  const z = targets.map((x) => v.normalize(x));
  t.ok(Math.abs(z.reduce((a, b) => a + b, 0)) < 1e-9);
  t.ok(Math.abs(Math.sqrt(z.reduce((a, b) => a + b * b, 0) / z.length) - 1) < 1e-6);
  for (const x of targets) t.ok(Math.abs(v.denormalize(v.normalize(x)) - x) < 1e-9);
  const restored = ValueNormalizer.fromState(v.state());
  t.equal(restored.normalize(-7), v.normalize(-7), 'checkpointed state restores exactly');
  t.end();
});

t.test('before any data, normalisation is the identity', (t) => {
  const v = new ValueNormalizer(0);
  t.equal(v.normalize(3), 3);
  t.end();
});
