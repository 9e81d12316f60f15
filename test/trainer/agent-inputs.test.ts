import t from 'tap';
import { actorInputSize, writeActorInputs } from '@fleetmind/trainer';

t.test('actor inputs: each agent its observation then its one-hot index; with rows, only those rows written', (t) => {
  // two envs, a role of agents 2 and 0 of three, observations of 2 values
  const nets = { agents: [2, 0], obsDim: 2 };
  const observations = [Float32Array.from([1, 2, 3, 4]), Float32Array.from([5, 6, 7, 8]), Float32Array.from([9, 10, 11, 12])];
  const width = actorInputSize(2, 2, true);
  t.equal(width, 4);
  const out = new Float32Array(2 * 2 * width);
  writeActorInputs(nets, observations, 2, true, out);
  t.same([...out], [9, 10, 1, 0, 1, 2, 0, 1, 11, 12, 1, 0, 3, 4, 0, 1], 'every row');
  const some = new Float32Array(2 * 2 * width).fill(-1);
  writeActorInputs(nets, observations, 2, true, some, [0, 1, 1, 0]);
  t.same([...some], [-1, -1, -1, -1, 1, 2, 0, 1, 11, 12, 1, 0, -1, -1, -1, -1], 'rows 1 and 2 only; the others as they were');
  t.end();
});
