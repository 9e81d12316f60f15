import t from 'tap';
import { interquartileMean, marlEvalLayout, mergeMarlEval, summarizeRuns } from '@fleetmind/worlds';

t.test("the interquartile mean is scipy's trim_mean(x, 0.25), as rliable and marl-eval compute it", (t) => {
  t.equal(interquartileMean([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 5.5, 'drops 2 of 10 from each end');
  t.equal(interquartileMean([1, 2, 3, 100, 5]), 10 / 3, 'drops 1 of 5 from each end: an outlier seed does not move it');
  t.equal(interquartileMean([4, 2, 9]), 5, 'fewer than 4 values: a plain mean');
  t.ok(Number.isNaN(interquartileMean([])));
  t.end();
});

t.test('a summary over runs: each run is its episodes\' mean; the IQM lies in its seeded 95 % bootstrap interval', (t) => {
  const runs = [0.9, 0.95, 0.99, 0.2, 0.97].map((p, k) => ({ stepCount: 1000 * (k + 1), metrics: { success: Array.from({ length: 100 }, (_, i) => (i < p * 100 ? 1 : 0)) } }));
  const s = summarizeRuns(runs, 'success', 7);
  t.same(s.run_means, [0.9, 0.95, 0.99, 0.2, 0.97]);
  t.equal(s.iqm, (0.9 + 0.95 + 0.97) / 3);
  t.ok(s.ci95[0] <= s.iqm && s.iqm <= s.ci95[1], `${s.ci95}`);
  t.ok(s.ci95[0] < s.ci95[1], 'runs that differ give an interval of some width');
  t.same(summarizeRuns(runs, 'success', 7).ci95, s.ci95, 'the same seed, the same interval');
  t.throws(() => summarizeRuns(runs, 'return'), /run 1 has no values of return/);
  t.end();
});

t.test("marl-eval's raw layout: env → task → algorithm → run_k → step_1 and absolute_metrics; merging adds algorithms, never overwrites", (t) => {
  const runs = [{ stepCount: 500, metrics: { return: [1, 2], success: [1, 0] } }, { stepCount: 600, metrics: { return: [3, 4], success: [1, 1] } }];
  const data = marlEvalLayout('traffic_junction_v0', 'difficulty=easy', 'mappo-commnet', runs);
  t.same(data, {
    traffic_junction_v0: {
      'difficulty=easy': {
        'mappo-commnet': {
          run_1: { step_1: { step_count: 500, return: [1, 2], success: [1, 0] }, absolute_metrics: { return: [1, 2], success: [1, 0] } },
          run_2: { step_1: { step_count: 600, return: [3, 4], success: [1, 1] }, absolute_metrics: { return: [3, 4], success: [1, 1] } },
        },
      },
    },
  });
  const merged = mergeMarlEval(data, marlEvalLayout('traffic_junction_v0', 'difficulty=easy', 'random', runs));
  t.same(Object.keys(merged.traffic_junction_v0['difficulty=easy']), ['mappo-commnet', 'random']);
  t.throws(() => mergeMarlEval(merged, data), /mappo-commnet is already in the file/);
  t.end();
});
