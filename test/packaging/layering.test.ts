import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'dist' || d.name === 'node_modules' ? [] : sources(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map((m) => m[1]);
}

t.test('the worlds depend on nothing but zod: no trainer, TensorFlow.js, network or broker', (t) => {
  const root = join(REPO_ROOT, 'sim-harness', 'worlds');
  for (const file of sources(root)) {
    const external = imports(file).filter((s) => !s.startsWith('.'));
    t.same(external.filter((s) => s !== 'zod'), [], relative(REPO_ROOT, file));
  }
  t.end();
});

t.test('the runtime imports no training, broker or simulation code', (t) => {
  for (const file of sources(join(REPO_ROOT, 'runtime'))) {
    const bad = imports(file).filter((s) => /^(@tensorflow|aedes|@fleetmind\/(trainer|broker|sim-harness))/.test(s));
    t.same(bad, [], relative(REPO_ROOT, file));
  }
  t.end();
});

t.test('models (what a robot loads) imports no TensorFlow.js, trainer, broker or simulation code', (t) => {
  for (const file of sources(join(REPO_ROOT, 'models'))) {
    const bad = imports(file).filter((s) => /^(@tensorflow|aedes|mqtt|@fleetmind\/)/.test(s));
    t.same(bad, [], relative(REPO_ROOT, file));
  }
  t.end();
});
