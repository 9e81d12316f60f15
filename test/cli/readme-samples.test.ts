// The README's TypeScript samples compile against the packages as built: each ```ts block is
// written out as a module and type-checked with the project's compiler settings. The samples'
// stand-ins for a robot's own code (`motors`, `sensors`) are declared here, nothing else.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

const STAND_INS = 'declare const motors: { apply(action: number): void };\ndeclare const sensors: { read(): Float32Array };\n';

t.test('every TypeScript sample in the README type-checks', (t) => {
  const samples = [...readFileSync(join(REPO_ROOT, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  t.ok(samples.length >= 2, `${samples.length} samples`);
  // inside the repository, so that @fleetmind/* resolve through its node_modules as a user's would
  const dir = join(REPO_ROOT, '.tsbuild', 'readme-samples');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  samples.forEach((code, i) => writeFileSync(join(dir, `sample-${i + 1}.mts`), `${STAND_INS}${code}\nexport {};\n`));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    extends: '../../tsconfig.base.json',
    compilerOptions: { noEmit: true, composite: false, declaration: false, sourceMap: false, rootDir: '.' },
    include: ['*.mts'],
  }));
  const tsc = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
  t.equal(tsc.status, 0, `tsc: ${tsc.stdout}${tsc.stderr}`);
  // and the check can fail: a sample calling what does not exist is refused
  writeFileSync(join(dir, 'sample-broken.mts'), `${STAND_INS}import { makeWorld } from '@fleetmind/worlds';\nmakeWorld('simple_spread_v3').noSuchMethod();\nexport {};\n`);
  const broken = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
  t.match(broken.stdout, /sample-broken\.mts.*Property 'noSuchMethod' does not exist/);
  t.end();
});
