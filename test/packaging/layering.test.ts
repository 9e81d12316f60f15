// The architecture, enforced (ARCHITECTURE.md, "The parts"): every import of every
// source file is checked against the allowed arrows between the parts, and each part's
// package.json declares exactly the fleetmind parts it imports. Relative imports stay inside
// their part, and no part has an import cycle.

import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

/** each part: its folder, and the fleetmind parts it may import (never the reverse) */
const PARTS: Record<string, { dir: string; may: string[] }> = {
  worlds: { dir: 'sim-harness/worlds', may: [] },
  wire: { dir: 'runtime/wire', may: [] },
  models: { dir: 'models', may: ['wire'] },
  runtime: { dir: 'runtime', may: ['models', 'wire'] },
  broker: { dir: 'broker', may: ['wire'] },
  dashboard: { dir: 'dashboard', may: ['wire'] },
  trainer: { dir: 'trainer', may: ['worlds', 'models'] },
  'sim-harness': { dir: 'sim-harness', may: ['worlds', 'wire', 'models', 'runtime', 'broker'] },
  bench: { dir: 'bench', may: ['worlds', 'wire', 'models', 'runtime', 'broker', 'sim-harness', 'trainer'] },
};

/** outside packages a part may not pull in, whatever it imports from us */
const FORBIDDEN_EXTERNAL: Record<string, RegExp> = {
  worlds: /^(?!zod$)/, // zod only
  wire: /^(?!protobufjs$)/, // protobufjs only
  models: /^(@tensorflow|aedes|mqtt|mqemitter)/,
  runtime: /^(@tensorflow|aedes|mqemitter)/,
  broker: /^(@tensorflow|onnxruntime|onnx-proto)/,
  dashboard: /^(@tensorflow|onnxruntime|onnx-proto|aedes)/,
  trainer: /^(aedes|mqtt|mqemitter|onnxruntime-node|ioredis)/,
};

const PART_DIRS = Object.entries(PARTS).sort((a, b) => b[1].dir.length - a[1].dir.length);
function partOf(file: string): string | null {
  const rel = relative(REPO_ROOT, file);
  return PART_DIRS.find(([, p]) => rel === p.dir || rel.startsWith(`${p.dir}/`))?.[0] ?? null;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return ['dist', 'node_modules', 'bundles', 'zoo'].includes(d.name) ? [] : sources(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const statics = [...text.matchAll(/^(?:import|export)[^'"]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
  const dynamics = [...text.matchAll(/import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]);
  return [...statics, ...dynamics];
}

const packageName = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
const allFiles = [...new Set(Object.values(PARTS).flatMap((p) => sources(join(REPO_ROOT, p.dir))))];

t.test('every import follows an allowed arrow between the parts', (t) => {
  for (const file of allFiles) {
    const part = partOf(file)!;
    const rel = relative(REPO_ROOT, file);
    for (const spec of imports(file)) {
      if (spec.startsWith('.')) {
        const target = partOf(resolve(dirname(file), spec));
        if (target !== part) t.fail(`${rel}: relative import ${spec} leaves ${part} for ${target} (import the package instead)`);
        continue;
      }
      if (spec.startsWith('node:')) continue;
      const name = packageName(spec);
      if (name.startsWith('@fleetmind/')) {
        const target = name.slice('@fleetmind/'.length);
        if (target === part || !PARTS[part].may.includes(target)) t.fail(`${rel}: ${part} may not import ${name} (allowed: ${PARTS[part].may.join(', ') || 'no fleetmind part'})`);
      } else if (FORBIDDEN_EXTERNAL[part]?.test(name)) {
        t.fail(`${rel}: ${part} may not depend on ${name}`);
      }
    }
  }
  t.pass(`${allFiles.length} files checked`);
  t.end();
});

t.test('each part declares exactly the fleetmind parts it imports, and nothing it may not', (t) => {
  for (const [part, { dir }] of Object.entries(PARTS)) {
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, dir, 'package.json'), 'utf8'));
    t.equal(manifest.name, `@fleetmind/${part}`, `${dir}/package.json names the part`);
    const declared = Object.keys(manifest.dependencies ?? {}).filter((d) => d.startsWith('@fleetmind/')).sort();
    const used = new Set<string>();
    for (const file of allFiles.filter((f) => partOf(f) === part)) {
      for (const spec of imports(file)) if (spec.startsWith('@fleetmind/')) used.add(packageName(spec));
    }
    t.same(declared, [...used].sort(), `${part}'s declared fleetmind dependencies are the ones it imports`);
  }
  t.end();
});

t.test('no part has an import cycle', (t) => {
  const graph = new Map<string, string[]>();
  for (const file of allFiles) {
    graph.set(file, imports(file).filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s).replace(/\.js$/, '.ts')).filter((f) => existsSync(f)));
  }
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(REPO_ROOT, f)).join(' → '));
      return;
    }
    state.set(file, 'open');
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of allFiles) visit(file, []);
  t.same(cycles, [], 'import cycles');
  t.end();
});
