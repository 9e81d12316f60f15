// A simulation campaign: the nominal run (no faults), the faulted run with the same seeds, and the
// random baseline — what retained performance is measured against — then report.json and
// report.html when asked.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundle } from '@fleetmind/models';
import { simulate, type SimReport } from '../fleet/simulate.js';
import { checkPlanFitsBundle, checkPlanFitsMode, type SimOptions } from '../fleet/sim-options.js';
import type { FaultPlan } from '../faults/fault-plan.js';
import { randomTeamReturns, robustnessReport, type RobustnessReport } from './robustness.js';
import { renderHtmlReport } from './html-report.js';

export interface CampaignOptions extends Omit<SimOptions, 'bundle' | 'faults' | 'trace' | 'onProgress' | 'record'> {
  /** record every run: <dir>/nominal and, with a plan, <dir>/faulted */
  recordDir?: string | null;
  bundle: string;
  plan: FaultPlan | null;
  /** write report.json and report.html here */
  reportDir?: string | null;
  onProgress?: (phase: 'nominal' | 'faulted', done: number, total: number) => void;
}

export interface CampaignResult {
  report: RobustnessReport;
  /** the run the command reports: the faulted one when there is a plan or a rollout */
  run: SimReport;
  files: string[];
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  checkPlanFitsMode(o.plan, o.mode ?? 'inproc');
  const bundle = await loadBundle(o.bundle);
  try {
    checkPlanFitsBundle(o.plan, bundle.manifest, o.episodes, o.seed);
    const trace = Boolean(o.reportDir);
    // the nominal run has no rollout: it is what the rollout's run is measured against
    const base = { ...o, bundle, trace, rollout: undefined };
    const recordIn = (run: string) => (o.recordDir ? join(o.recordDir, run) : undefined);
    const nominal = await simulate({ ...base, faults: null, record: recordIn('nominal'), onProgress: (d, t) => o.onProgress?.('nominal', d, t) });
    // interrupted during the nominal run: the faulted one would have nothing to be compared with
    // (a rollout is played in that run too, under the plan if there is one: its retained performance is the rollout's)
    const m = bundle.manifest;
    const random = randomTeamReturns(m, o.episodes, o.seed);
    // a rollout's min_retained gate measures each stage's episodes against these same episodes
    const rollout = o.rollout && { ...o.rollout, baseline: { nominal: nominal.episode_team_returns, random: random.episodes } };
    const faulted = (o.plan || rollout) && !nominal.partial ? await simulate({ ...base, faults: o.plan, rollout, record: recordIn('faulted'), onProgress: (d, t) => o.onProgress?.('faulted', d, t) }) : null;
    const report = robustnessReport({ bundle: o.bundle, world: m.world.id, plan: o.plan, random, nominal, faulted });
    const files: string[] = [];
    if (o.reportDir) {
      mkdirSync(o.reportDir, { recursive: true });
      const json = join(o.reportDir, 'report.json');
      writeFileSync(json, `${JSON.stringify(report, null, 1)}\n`);
      const html = join(o.reportDir, 'report.html');
      writeFileSync(html, renderHtmlReport(report));
      files.push(json, html);
    }
    return { report, run: faulted ?? nominal, files };
  } finally {
    await bundle.close();
  }
}
