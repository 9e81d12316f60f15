import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';
import { packAndInstall } from '../helpers/packing.js';

const FORBIDDEN = /^(@tensorflow\/|aedes|mqemitter|@fleetmind\/(trainer|broker|sim-harness|worlds|bench))/;

t.test('the runtime packs and installs alone, without TensorFlow.js, aedes or the other parts', (t) => {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'runtime', 'package.json'), 'utf8'));
  const deps = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies });
  t.same(deps.filter((d) => FORBIDDEN.test(d)), [], 'declares none of the training or broker packages');

  // the runtime's fleetmind dependencies: the bundle loader and the wire contract
  const pack = packAndInstall(['runtime/wire', 'models', 'runtime']);
  t.teardown(() => pack.remove());
  t.ok(pack.files.runtime.includes('dist/index.js'), 'ships its compiled entry point');
  t.ok(pack.files['runtime/wire'].includes('fleetmind.proto'), 'the wire package ships its .proto');
  t.notOk(Object.values(pack.files).flat().some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), 'no TypeScript sources');
  t.same(pack.installed.filter((d) => FORBIDDEN.test(d)), [], `installed tree: ${pack.installed.join(', ')}`);
  t.notOk(existsSync(join(pack.app, 'node_modules', '@tensorflow')));
  t.comment(`runtime alone installs ${(pack.bytes / 1e6).toFixed(1)} MB`);
  const out = execFileSync(process.execPath, ['--input-type=module', '-e',
    "import { createAgent } from '@fleetmind/runtime'; import { agentTopic } from '@fleetmind/wire'; console.log(typeof createAgent, agentTopic('f1', 'a7', 'msg'))"], { cwd: pack.app, encoding: 'utf8' });
  t.equal(out.trim(), 'function fm/f1/a/a7/msg', 'the installed runtime and wire contract load and work');
  const agentOut = execFileSync(join(pack.app, 'node_modules', '.bin', 'fleetmind-agent'), ['--bundle', join(REPO_ROOT, 'models', 'zoo', 'spread-commnet'),
    '--agent', 'agent_0', '--broker', 'mqtt://127.0.0.1:1', '--adapter', 'stdio', '--log-level', 'silent'],
  { input: `{"tick":1,"values":${JSON.stringify(new Array(18).fill(0.1))}}\n`, encoding: 'utf8', timeout: 30_000 });
  t.match(JSON.parse(agentOut.trim()), { tick: 1, tier: 'none' }, 'the installed fleetmind-agent command runs a zoo bundle (no broker: the fallback acts)');
  t.end();
});
