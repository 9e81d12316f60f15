import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processesMarked, runCli } from '../helpers/cli.js';

t.test('the demo\'s path at small size: a fleet on the embedded broker, nominal then faulted, a report, nothing left running', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-demo-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const marker = `demo-${process.pid}-${Date.now()}`;
  const r = runCli(['demo', '--episodes', '2', '--report', dir], undefined, { FLEETMIND_TEST_MARK: marker });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /3 runtime agents of spread-commnet/);
  t.match(r.stdout, /retained performance\s+100 %\s+\d+\.\d %/);
  t.match(r.stdout, /tiers full\/partial\/none\/safe\s+150\/0\/0\/0/, 'nominal: full communication throughout');
  t.match(r.stdout, /actions missing \(safe action\)\s+0\s+20/, 'the crashed agent was down ten ticks per episode');
  t.ok(existsSync(join(dir, 'report.html')), 'the report was written where it says');
  t.match(r.stdout, new RegExp(`report: ${join(dir, 'report.html').replace(/[/.]/g, '\\$&')}`));
  t.same(processesMarked(marker), [], 'the demo left no process of its own behind');
  t.end();
});
