import t from 'tap';
import { median } from '@fleetmind/worlds';
import { runCli } from '../helpers/cli.js';

t.test('fleetmind bench broker --json measures each broker with the same clients and reports ratios', (t) => {
  const r = runCli(['bench', 'broker', '--json', '--targets', 'fleetmind,aedes', '--agents', '20', '--seconds', '1', '--rtt-samples', '50', '--fanout-subscribers', '10', '--fanout-messages', '300', '--rounds', '2']);
  t.equal(r.code, 0, r.stderr);
  const envelope = JSON.parse(r.stdout);
  t.match(envelope, { bench: 'broker', started: String, machine: { cpus: Number, node: String } }, 'the one benchmark JSON shape');
  const report = envelope.results;
  for (const kind of ['fleetmind', 'aedes']) {
    const target = report.targets[kind];
    t.ok(target.rtt_ms.p50 > 0 && target.rtt_ms.p99 >= target.rtt_ms.p50, `${kind} round trip`);
    t.equal(target.rounds.length, 2);
    for (const round of target.rounds) {
      t.match(round.fanout, { subscribers: 10, messages: 300 }, 'the fan-out asked for');
      t.equal(round.fanout.delivered, round.fanout.subscribers * round.fanout.messages, `${kind} fan-out delivers everything`);
    }
    t.equal(target.fanout_msgs_per_s, median(target.rounds.map((x: { fanout: { msgs_per_s: number } }) => x.fanout.msgs_per_s)), 'median of the rounds');
    t.equal(target.fleet.agents, 20);
    t.ok(target.fleet.expected > 0 && target.fleet.delivered_ratio > 0.9, `${kind} fleet delivers (${target.fleet.delivered_ratio})`);
  }
  t.ok(report.ratios.fleetmind_vs_aedes.rtt_p50 > 0);
  t.ok(report.overhead_vs_aedes.aedes_rtt_p50_us > 0 && report.overhead_vs_aedes.fleetmind_rtt_p50_us > 0, 'in-process overhead measured');
  t.end();
});

t.test('fleetmind bench broker rejects an unknown broker', (t) => {
  const r = runCli(['bench', 'broker', '--targets', 'fleetmind,emqx']);
  t.equal(r.code, 2);
  t.match(r.stderr, /unknown broker emqx/);
  t.end();
});
