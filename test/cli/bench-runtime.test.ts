import t from 'tap';
import { runCli } from '../helpers/cli.js';

t.test('fleetmind bench runtime --json reports the four figures, measured on a 10-agent fleet', (t) => {
  const r = runCli(['bench', 'runtime', '--ticks', '30', '--json']);
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  t.ok(report.ort_call_us.p50 > 0 && report.ort_call_us.p99 >= report.ort_call_us.p50, 'ONNX Runtime call percentiles');
  t.match(report.tick_ms, { agents: 10, rounds: 1, ticks: 300 });
  t.equal(report.tick_ms.full_ratio, 1, 'with nothing failing, every tick had full communication');
  t.ok(report.tick_ms.p99 >= report.tick_ms.p50 && report.tick_ms.p50 > 0);
  t.ok(report.rss_mib > 30 && report.rss_mib < 1024, `an agent process's RSS: ${report.rss_mib} MiB`);
  t.ok(report.msg_bytes > 64 && report.msg_bytes < 128, `an int8 message of 64 values: ${report.msg_bytes} bytes`);
  t.end();
});

t.test('fleetmind bench runtime refuses a folder that is not a bundle', (t) => {
  const r = runCli(['bench', 'runtime', '--bundle', '/nonexistent']);
  t.equal(r.code, 2);
  t.match(r.stderr, /is not a bundle folder/);
  t.end();
});
