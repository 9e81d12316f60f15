import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';
import { packAndInstall } from '../helpers/packing.js';
import { connect } from '../helpers/mqtt.js';

// a gateway runs the broker: no ONNX Runtime, no TensorFlow.js, no trainer, runtime or worlds
const FORBIDDEN = /^(onnxruntime|onnx-proto|@tensorflow\/|@fleetmind\/(trainer|runtime|models|sim-harness|worlds|bench))/;

t.test('the broker packs and installs alone, with the wire contract and without ONNX Runtime or TensorFlow.js', async (t) => {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'broker', 'package.json'), 'utf8'));
  t.same(Object.keys(manifest.dependencies).filter((d) => FORBIDDEN.test(d)), [], 'declares none of the runtime or training packages');

  const pack = packAndInstall(['runtime/wire', 'broker']);
  t.teardown(() => pack.remove());
  t.ok(pack.files.broker.includes('dist/cli/bin.js'), 'ships its own command');
  t.notOk(pack.files.broker.some((f) => f.includes('bench')), 'no benchmarks in the broker package');
  t.same(pack.installed.filter((d) => FORBIDDEN.test(d)), [], `installed tree: ${pack.installed.join(', ')}`);
  t.comment(`broker alone installs ${(pack.bytes / 1e6).toFixed(1)} MB`);

  const bin = join(pack.app, 'node_modules', '.bin', 'fleetmind-broker');
  const help = execFileSync(bin, ['--help'], { encoding: 'utf8' });
  t.match(help, /Usage: fleetmind-broker \[options\] \[command\]/, 'fleetmind-broker --help works');
  t.match(help, /--max-packet-size <bytes>/);

  const proc = spawn(bin, ['--allow-anonymous', '--port', '0'], { cwd: pack.app });
  t.teardown(() => proc.kill('SIGKILL'));
  let out = '';
  const banner = await new Promise<string>((resolve, reject) => {
    proc.stdout.on('data', (d) => { out += d; if (out.includes('\n')) resolve(out); });
    proc.once('exit', (code) => reject(new Error(`fleetmind-broker exited ${code}`)));
  });
  const [, url] = /listening on (mqtt:\/\/[\d.]+:\d+)/.exec(banner)!;
  const c = await connect(url, { clientId: 'gateway-probe' });
  await c.subscribeAsync('fm/f1/a/a1/msg');
  const got = new Promise<string>((resolve) => c.once('message', (topic) => resolve(topic)));
  c.publish('fm/f1/a/a1/msg', Buffer.from([1, 2, 3]));
  t.equal(await got, 'fm/f1/a/a1/msg', 'the installed broker routes messages');
  c.end(true);
  const code = await new Promise<number | null>((resolve) => { proc.once('exit', resolve); proc.kill('SIGTERM'); });
  t.equal(code, 0, 'stops cleanly on SIGTERM');
});
