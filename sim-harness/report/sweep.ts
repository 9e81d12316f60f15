// A sweep: one fault plan, one of its numbers set to each of several values, the fleet run
// under each — the robustness curve (retained performance against, say, drop probability).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundle } from '@fleetmind/models';
import { simulate } from '../fleet/simulate.js';
import { checkPlanFitsBundle, checkPlanFitsMode, type SimOptions } from '../fleet/sim-options.js';
import { FaultPlanError, parseFaultPlan, type FaultPlan } from '../faults/fault-plan.js';
import { randomTeamReturns, retainedInterval, retainedPerformance } from './robustness.js';

export interface SweepOptions extends Omit<SimOptions, 'bundle' | 'faults' | 'trace' | 'onProgress'> {
  bundle: string;
  plan: FaultPlan;
  /** e.g. faults[0].p */
  param: string;
  values: number[];
  reportDir?: string | null;
  onProgress?: (line: string) => void;
}

export interface SweepPoint {
  value: number;
  team_return_mean: number;
  retained: number;
  /** 95 % paired bootstrap interval of retained over episodes */
  retained_interval: [number, number];
  tiers: Record<string, number>;
  faults_applied: Record<string, number>;
}

export interface SweepReport {
  bundle: string;
  param: string;
  episodes: number;
  seed: number;
  nominal_team_return_mean: number;
  random_team_return_mean: number;
  points: SweepPoint[];
}

/** The plan with the number at `path` (faults[0].p, faults[1].window.ticks[0] …) set to value. */
export function setPlanParam(plan: FaultPlan, path: string, value: number): FaultPlan {
  const keys = [...path.matchAll(/([A-Za-z_]\w*)|\[(\d+)\]/g)].map((m) => (m[1] !== undefined ? m[1] : Number(m[2])));
  if (keys.length === 0 || keys.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('').replace(/^\./, '') !== path) {
    throw new FaultPlanError(`--param ${path}: expected a path like faults[0].p`);
  }
  const copy = structuredClone(plan) as unknown as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object') throw new FaultPlanError(`--param ${path}: the plan has nothing at ${String(key)}`);
    node = next as Record<string | number, unknown>;
  }
  const last = keys[keys.length - 1];
  if (typeof node[last] !== 'number' && node[last] !== undefined) throw new FaultPlanError(`--param ${path}: that is not a number in the plan`);
  node[last] = value;
  return parseFaultPlan(JSON.stringify(copy), `the plan with ${path} = ${value}`);
}

export async function runSweep(o: SweepOptions): Promise<{ report: SweepReport; files: string[] }> {
  const plans = o.values.map((v) => setPlanParam(o.plan, o.param, v)); // every value checked before anything runs
  for (const plan of plans) checkPlanFitsMode(plan, o.mode ?? 'inproc');
  const bundle = await loadBundle(o.bundle);
  const progress = o.onProgress ?? (() => {});
  try {
    for (const plan of plans) checkPlanFitsBundle(plan, bundle.manifest, o.episodes, o.seed);
    const base = { ...o, bundle };
    progress('nominal run');
    const nominal = await simulate({ ...base, faults: null, onProgress: (d, t) => progress(`nominal run: episode ${d}/${t}`) });
    const m = bundle.manifest;
    const random = randomTeamReturns(m, o.episodes, o.seed);
    const points: SweepPoint[] = [];
    for (const [k, plan] of plans.entries()) {
      const value = o.values[k];
      const run = await simulate({ ...base, faults: plan, onProgress: (d, t) => progress(`${o.param} = ${value} (${k + 1}/${plans.length}): episode ${d}/${t}`) });
      points.push({
        value, team_return_mean: run.team_return_mean, retained: retainedPerformance(run.team_return_mean, nominal.team_return_mean, random.mean),
        retained_interval: retainedInterval(run.episode_team_returns, nominal.episode_team_returns, random.episodes, o.seed),
        tiers: run.tiers, faults_applied: run.faults_applied as Record<string, number>,
      });
    }
    const report: SweepReport = { bundle: o.bundle, param: o.param, episodes: o.episodes, seed: o.seed, nominal_team_return_mean: nominal.team_return_mean, random_team_return_mean: random.mean, points };
    const files: string[] = [];
    if (o.reportDir) {
      mkdirSync(o.reportDir, { recursive: true });
      files.push(join(o.reportDir, 'sweep.json'), join(o.reportDir, 'sweep.html'));
      writeFileSync(files[0], `${JSON.stringify(report, null, 1)}\n`);
      writeFileSync(files[1], sweepHtml(report));
    }
    return { report, files };
  } finally {
    await bundle.close();
  }
}

function sweepHtml(r: SweepReport): string {
  const W = 640, H = 300, L = 56, R = 16, T = 20, B = 44;
  const xs = r.points.map((p) => p.value);
  const lo = Math.min(...xs), hi = Math.max(...xs) === lo ? lo + 1 : Math.max(...xs);
  const ys = r.points.flatMap((p) => [p.retained * 100, ...p.retained_interval.map((v) => v * 100)]);
  const yLo = Math.min(0, ...ys), yHi = Math.max(110, ...ys);
  const x = (v: number) => L + ((v - lo) / (hi - lo)) * (W - L - R);
  const y = (v: number) => T + (1 - (v - yLo) / (yHi - yLo)) * (H - T - B);
  const pts = r.points.map((p) => `${x(p.value).toFixed(1)},${y(p.retained * 100).toFixed(1)}`).join(' ');
  const grid = [0, 50, 80, 90, 100].filter((g) => g >= yLo && g <= yHi)
    .map((g) => `<line x1="${L}" x2="${W - R}" y1="${y(g)}" y2="${y(g)}" stroke="${g === 80 || g === 90 ? '#ffcdd2' : '#eee'}"/><text x="${L - 6}" y="${y(g) + 4}" font-size="10" text-anchor="end">${g} %</text>`).join('');
  const bars = r.points.map((p) => { const [a, b] = p.retained_interval.map((v) => y(v * 100)); const cx = x(p.value); return `<line x1="${cx}" x2="${cx}" y1="${a}" y2="${b}" stroke="#1565c0"/><line x1="${cx - 4}" x2="${cx + 4}" y1="${a}" y2="${a}" stroke="#1565c0"/><line x1="${cx - 4}" x2="${cx + 4}" y1="${b}" y2="${b}" stroke="#1565c0"/>`; }).join('');
  const labels = r.points.map((p) => `<circle cx="${x(p.value)}" cy="${y(p.retained * 100)}" r="3.5" fill="#1565c0"><title>${p.value}: ${(p.retained * 100).toFixed(1)} % (95 % CI ${(p.retained_interval[0] * 100).toFixed(1)} to ${(p.retained_interval[1] * 100).toFixed(1)} %)</title></circle><text x="${x(p.value)}" y="${H - B + 16}" font-size="10" text-anchor="middle">${p.value}</text>`).join('');
  const rows = r.points.map((p) => `<tr><td>${p.value}</td><td>${p.team_return_mean.toFixed(2)}</td><td>${(p.retained * 100).toFixed(1)} % (${(p.retained_interval[0] * 100).toFixed(1)} to ${(p.retained_interval[1] * 100).toFixed(1)})</td><td>${p.tiers.full}/${p.tiers.partial}/${p.tiers.none}/${p.tiers.safe}</td></tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fleetmind sweep — ${r.param}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:900px;padding:0 16px}td,th{border:1px solid #ddd;padding:4px 10px}table{border-collapse:collapse}</style></head><body>
<h1>Robustness curve: retained performance against ${r.param}</h1>
<p>${r.bundle}, ${r.episodes} episodes from seed ${r.seed}; nominal team return ${r.nominal_team_return_mean.toFixed(2)}, random ${r.random_team_return_mean.toFixed(2)}.</p>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">${grid}<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#999"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#999"/>
<polyline fill="none" stroke="#1565c0" stroke-width="2" points="${pts}"/>${bars}${labels}<text x="${(L + W - R) / 2}" y="${H - 6}" font-size="11" text-anchor="middle">${r.param} (the plan's value)</text><text transform="translate(14 ${(T + H - B) / 2}) rotate(-90)" font-size="11" text-anchor="middle">retained performance</text></svg>
<p>Retained performance = (R<sub>faulted</sub> − R<sub>random</sub>) / (R<sub>nominal</sub> − R<sub>random</sub>), team returns on the same episodes; bars: 95 % paired bootstrap intervals over episodes. The pink lines are the seed notebook's bars: 80 % retained under 30 % message loss, 90 % with 10 % of agents failed.</p>
<table><thead><tr><th>${r.param}</th><th>team return</th><th>retained (95 % CI)</th><th>tiers full/partial/none/safe</th></tr></thead><tbody>${rows}</tbody></table>
</body></html>
`;
}
