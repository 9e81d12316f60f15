// The half-minute soak of CI (30 minutes by hand: `fleetmind bench soak --minutes 30`): a fleet at
// 10 Hz through every phase of the fault cycle comes out the other side still deciding.

import t from 'tap';
import { join } from 'node:path';
import { benchSoak, SOAK_PHASES } from '@fleetmind/bench';
import { REPO_ROOT } from '../helpers/paths.js';

t.test('a 20-agent fleet soaks for half a minute through loss, a partition, crashes, a broker restart and hostile garbage', async (t) => {
  const r = await benchSoak({ bundle: join(REPO_ROOT, 'bench', 'bundles', 'spread-nearest3-commnet'), minutes: 0.5, agents: 20, hz: 10, phaseSeconds: 5 });
  t.same(r.per_minute.flatMap((m) => m.phases).filter((p, i, a) => a.indexOf(p) === i).sort(), [...SOAK_PHASES].sort(), 'every phase ran');
  t.ok(r.faults.crashes > 0 && r.faults.restarts === r.faults.crashes, `${r.faults.crashes} agents crashed and came back`);
  t.equal(r.faults.broker_restarts, 1);
  t.ok(r.faults.dropped_messages > 0 && r.faults.hostile_messages > 0);
  t.same(r.per_phase.map((p) => p.phase), [...SOAK_PHASES], 'each phase measured on its own');
  t.ok(r.per_phase.every((p) => p.rounds > 0), 'rounds ran in every phase');
  const m = r.per_minute[0];
  t.ok(m.rounds > 1000, `${m.rounds} rounds`);
  t.ok(m.reconnects >= 20, `every agent reconnected after the broker restart (${m.reconnects} reconnections)`);
  t.ok(m.decisions_missing_ratio < 0.2, `${(m.decisions_missing_ratio * 100).toFixed(1)} % of decisions missed their period, broker restart and crashes included`);
  t.ok(m.agents_rss_mib < 1024 && m.broker_rss_mib < 512, `memory: agents ${m.agents_rss_mib} MiB, broker ${m.broker_rss_mib} MiB`);
});
