// `fleetmind pack runtime`: a folder for a robot with one platform's ONNX Runtime, small enough
// (≤ 80 MB without Node.js), that runs an agent. The linux-arm64 folder is run under emulation by
// test/device/arm64-qemu.sh (by hand: too slow for every CI run); here its contents are checked.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';

const ortPlatforms = (dir: string) => {
  const bin = join(dir, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
  return readdirSync(bin).flatMap((os) => readdirSync(join(bin, os)).map((cpu) => `${os}-${cpu}`));
};

for (const platform of ['linux-x64', 'linux-arm64'] as const) {
  t.test(`pack runtime --platform ${platform}`, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'fm-device-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, 'device');
    const r = runCli(['pack', 'runtime', '--platform', platform, '--out', out, '--json']);
    t.equal(r.code, 0, r.stderr);
    const packed = JSON.parse(r.stdout);
    t.same(ortPlatforms(out), [platform], 'ONNX Runtime for this platform only');
    t.ok(packed.bytes <= 80e6, `${(packed.bytes / 1e6).toFixed(1)} MB on disk, Node.js not included (goal ≤ 80 MB)`);
    t.notOk(readdirSync(join(out, 'node_modules')).some((d) => d === '@tensorflow' || d === 'aedes'), 'no trainer or broker');
    if (platform === 'linux-x64') {
      const agent = join(out, 'bin', 'fleetmind-agent');
      t.match(spawnSync(agent, ['--version'], { encoding: 'utf8' }).stdout, /^\d+\.\d+\.\d+/, 'the launcher runs');
      // one observation on stdin, one action on stdout, from the packed copy of ONNX Runtime
      const obs = `{"tick":1,"values":${JSON.stringify(Array(18).fill(0.1))}}\n`;
      const run = spawnSync(agent, ['--bundle', join(REPO_ROOT, 'models', 'zoo', 'spread-mlp'), '--agent', 'agent_0', '--broker', 'mqtt://127.0.0.1:1883', '--adapter', 'stdio', '--log-level', 'error'], { input: obs, encoding: 'utf8', timeout: 30_000 });
      t.equal(run.status, 0, run.stderr);
      t.match(JSON.parse(run.stdout.trim().split('\n')[0]), { tick: 1, action: Number, tier: 'full' }, 'the packed agent answers');
    }
    t.equal(runCli(['pack', 'runtime', '--platform', platform, '--out', out]).code, 2, 'refuses a folder that is not empty');
    t.end();
  });
}

t.test('pack runtime refuses a platform it has no binaries for', (t) => {
  const r = runCli(['pack', 'runtime', '--platform', 'win32-x64', '--out', '/tmp/never']);
  t.equal(r.code, 2);
  t.match(r.stderr, /Allowed choices are linux-arm64, linux-x64/);
  t.end();
});
