// Learning curves of a run, drawn by vega-lite (not by hand): mean per-agent return against env
// steps and against wall-clock time, written as curves.svg and curves.png in the run folder, with
// the uniform-random and scripted policies' returns on the same world as reference lines and each
// --resume marked where its segment begins.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';

export interface CurvePoint {
  'global/env_steps': number;
  'time/wall_s': number;
  'train/agent_return_mean': number;
}

/** Mean per-agent returns of reference policies on the run's world, drawn as horizontal rules. */
export interface CurveReferences {
  random: number;
  /** null: the world has no scripted controller (a plugin may have none) */
  scripted: number | null;
}

export function curvesSpec(points: CurvePoint[], title: string, references: CurveReferences | null = null, resumedAt: readonly number[] = []): object {
  const values = points
    .filter((p) => Number.isFinite(p['train/agent_return_mean']))
    .map((p) => ({ steps: p['global/env_steps'], minutes: p['time/wall_s'] / 60, ret: p['train/agent_return_mean'] }));
  // a resumed segment starts at the first update after the env step it continued from
  const resumes = resumedAt.flatMap((step) => {
    const first = values.find((v) => v.steps > step);
    return first ? [{ steps: first.steps, minutes: first.minutes, label: 'resumed' }] : [];
  });
  const rules = references ? [{ policy: 'random', ret: references.random }, ...(references.scripted === null ? [] : [{ policy: 'scripted', ret: references.scripted }])] : [];
  const chart = (field: string, axis: string) => ({
    width: 360,
    height: 220,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: values.length < 40 },
        encoding: {
          x: { field, type: 'quantitative', title: axis },
          y: { field: 'ret', type: 'quantitative', title: 'mean per-agent return (training episodes)', scale: { zero: false } },
        },
      },
      ...(rules.length ? [{
        data: { values: rules },
        mark: { type: 'rule', strokeDash: [5, 4] },
        encoding: {
          y: { field: 'ret', type: 'quantitative' },
          color: { field: 'policy', type: 'nominal', title: 'reference (same world)', scale: { domain: ['random', 'scripted'], range: ['#9e9e9e', '#2e7d32'] } },
        },
      }] : []),
      ...(resumes.length ? [{
        data: { values: resumes },
        mark: { type: 'rule', strokeDash: [2, 2], color: '#6a1b9a' },
        encoding: { x: { field, type: 'quantitative' } },
      }, {
        data: { values: resumes },
        mark: { type: 'text', align: 'left', dx: 3, dy: -4, color: '#6a1b9a', fontSize: 10 },
        encoding: { x: { field, type: 'quantitative' }, y: { value: 8 }, text: { field: 'label' } },
      }] : []),
    ],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    hconcat: [chart('steps', 'env steps'), chart('minutes', 'wall clock (minutes)')],
    config: { background: 'white' },
  };
}

/** Renders the curves; returns the paths written. */
export async function writeLearningCurves(dir: string, points: CurvePoint[], title: string, references: CurveReferences | null = null, resumedAt: readonly number[] = []): Promise<string[]> {
  // the drawing stack loads here, not with the trainer: about half a second that eval, export and
  // every other process importing the trainer would pay for curves they never draw
  const [vega, { compile }, { Resvg }] = await Promise.all([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]);
  const spec = compile(curvesSpec(points, title, references, resumedAt) as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const svgPath = join(dir, 'curves.svg');
  const pngPath = join(dir, 'curves.png');
  writeFileSync(svgPath, svg);
  writeFileSync(pngPath, new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 } }).render().asPng());
  return [svgPath, pngPath];
}
