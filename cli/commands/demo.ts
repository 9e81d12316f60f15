// `fleetmind demo` (= `npm run demo`): the whole idea in under a minute. A fleet of runtime
// agents from the shipped CommNet bundle, on the embedded broker, plays nominal episodes and then
// the same episodes with 30 % of messages lost and one agent crashing mid-episode; a short table
// and a report to open.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { positiveInt } from '../options.js';
import { printJson, printTable, progressLine } from '../output.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Run the shipped CommNet bundle as a fleet of runtime agents on the embedded broker: nominal episodes, then 30 % message loss with one agent crashing mid-episode; prints the comparison and writes an HTML report.')
    .option('--episodes <n>', 'episodes per run', positiveInt, 10)
    .option('--report <dir>', 'where to write report.html', join('runs', 'demo'))
    .option('--json', 'print the comparison as JSON')
    .addHelpText('after', '\nExamples:\n  $ fleetmind demo\n  $ fleetmind demo --episodes 20 --report /tmp/demo')
    .action(async (opts: { episodes: number; report: string; json?: boolean }) => {
      const [{ checkBundleFiles }, { loadFaultPlan, runCampaign }] = await Promise.all([import('@fleetmind/models'), import('@fleetmind/sim-harness/fleet')]);
      const bundle = join(ROOT, 'models', 'zoo', 'spread-commnet');
      const { manifest, signature } = checkBundleFiles(bundle);
      const plan = loadFaultPlan(join(ROOT, 'sim-harness', 'faults', 'examples', 'demo.yaml'));
      const say = (line: string) => { if (!opts.json) process.stdout.write(`${line}\n`); };
      const agents = manifest.roles.flatMap((r) => r.agents);
      say(`fleetmind demo: ${agents.length} runtime agents of ${manifest.name} ${manifest.version} (CommNet, ${manifest.communication?.rounds} rounds, ${manifest.communication?.quantization} messages; bundle verified, ${signature})`);
      say(`on the embedded broker (loopback, a free port), each agent behind its own link proxy under faults; ${opts.episodes} episodes of ${manifest.world.id}`);
      say(`faults: 30 % of peer messages lost; agent_1 crashes at tick 8 and restarts 10 ticks later\n`);
      const progress = progressLine(!opts.json);
      const started = performance.now();
      const { report, files } = await runCampaign({
        bundle, plan, episodes: opts.episodes, seed: 0, broker: 'embedded', mode: 'inproc', reportDir: opts.report,
        agent: { roundDeadlineMs: 25 },
        onProgress: (phase, done, total) => progress(`${phase} run: episode ${done}/${total}`),
      });
      progress('');
      const { nominal, faulted, retained } = report;
      const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
      const tiers = (r: typeof nominal) => `${r.tiers.full}/${r.tiers.partial}/${r.tiers.none}/${r.tiers.safe}`;
      if (opts.json) {
        return printJson({
          episodes: opts.episodes, nominal_team_return_mean: nominal.team_return_mean, faulted_team_return_mean: faulted!.team_return_mean,
          random_team_return_mean: report.random_team_return_mean, retained, retained_interval: report.retained_interval, joint_success: report.joint_success, tiers: { nominal: nominal.tiers, faulted: faulted!.tiers },
          tick_ms: { nominal: nominal.tick_ms, faulted: faulted!.tick_ms }, faults_applied: faulted!.faults_applied, report: files,
        });
      }
      printTable(['', 'nominal', 'faulted'], [
        ['team return (mean)', nominal.team_return_mean.toFixed(2), faulted!.team_return_mean.toFixed(2)],
        ['retained performance', '100 %', `${(retained! * 100).toFixed(1)} %`],
        // (the demo's world, simple_spread, defines joint success)
        [`joint success (${report.joint_success!.description})`, pct(report.joint_success!.nominal), pct(report.joint_success!.faulted!)],
        ['tiers full/partial/none/safe', tiers(nominal), tiers(faulted!)],
        ['actions missing (safe action)', nominal.missing_actions, faulted!.missing_actions],
        ['tick p99 (ms)', nominal.tick_ms.p99, faulted!.tick_ms.p99],
        ['messages dropped by the network', nominal.messages.dropped, faulted!.messages.dropped],
      ]);
      const [lo, hi] = report.retained_interval!;
      say(`\nrandom policy: ${report.random_team_return_mean.toFixed(2)}; retained = (faulted − random) / (nominal − random), 95 % CI ${pct(lo)} to ${pct(hi)} over the ${opts.episodes} episodes`);
      say('lockstep on simulated time: the same command prints the same figures, but for the wall-clock tick p99');
      say(`report: ${files.find((f) => f.endsWith('.html'))}  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    });
}
