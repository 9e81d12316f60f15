import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

const FORBIDDEN = /^(@tensorflow\/|aedes|mqemitter|@fleetmind\/(trainer|broker|sim-harness))/;
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } });

t.test('the runtime packs and installs alone, without TensorFlow.js, aedes or the other parts', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-runtime-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], join(REPO_ROOT, 'runtime')));
  const tarball = join(dir, packed[0].filename);
  // the runtime's one fleetmind dependency: the bundle loader
  const models = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], join(REPO_ROOT, 'models')));
  const files: string[] = packed[0].files.map((f: { path: string }) => f.path);
  t.ok(files.includes('dist/index.js'), 'ships its compiled entry point');
  t.notOk(files.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), 'no TypeScript sources');

  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'runtime', 'package.json'), 'utf8'));
  const deps = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies });
  t.same(deps.filter((d) => FORBIDDEN.test(d)), [], 'declares none of the training or broker packages');

  const app = join(dir, 'device');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'device', version: '1.0.0', private: true, type: 'module' }));
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, models[0].filename), tarball], app);
  const installed = readdirSync(join(app, 'node_modules'), { withFileTypes: true }).flatMap((d) =>
    d.name.startsWith('@') ? readdirSync(join(app, 'node_modules', d.name)).map((s) => `${d.name}/${s}`) : [d.name],
  );
  t.same(installed.filter((d) => FORBIDDEN.test(d)), [], `installed tree: ${installed.join(', ')}`);
  t.notOk(existsSync(join(app, 'node_modules', '@tensorflow')));
  const out = execFileSync(process.execPath, ['--input-type=module', '-e',
    "import { agentTopic } from '@fleetmind/runtime'; console.log(agentTopic('f1', 'a7', 'msg'))"], { cwd: app, encoding: 'utf8' });
  t.equal(out.trim(), 'fm/f1/a/a7/msg', 'the installed runtime loads and works');
  const agentOut = execFileSync(join(app, 'node_modules', '.bin', 'fleetmind-agent'), ['--bundle', join(REPO_ROOT, 'models', 'zoo', 'spread-commnet'),
    '--agent', 'agent_0', '--broker', 'mqtt://127.0.0.1:1', '--adapter', 'stdio', '--log-level', 'silent'],
  { input: `{"tick":1,"obs":${JSON.stringify(new Array(18).fill(0.1))}}\n`, encoding: 'utf8', timeout: 30_000 });
  t.match(JSON.parse(agentOut.trim()), { tick: 1, tier: 'none' }, 'the installed fleetmind-agent command runs a zoo bundle (no broker: the fallback acts)');
  t.end();
});
