import t from 'tap';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fm-cli-bundle-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const run = join(dir, 'run');
const bundle = join(dir, 'bundle');

t.before(() => {
  const r = runCli(['train', '--world', 'simple_spread', '--actor', 'commnet', '--msg-dropout', '0.3', '--steps', '3200', '--envs', '32', '--out', run]);
  if (r.code !== 0) throw new Error(r.stderr);
});

t.test('export → verify → inspect → eval --bundle, from the command line', (t) => {
  let r = runCli(['export', '--run', run, '--out', bundle, '--quantize', 'f16', '--episodes', '30', '--train-command', 'fleetmind train --world simple_spread --actor commnet']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /parity max \|Δlogit\| \d\.\d+e-\d+ over \d{4} samples, 0 action mismatches/);
  t.match(r.stdout, /f16 messages -?\d+\.\d+, 30% messages lost -?\d+\.\d+/);
  r = runCli(['bundle', 'verify', bundle, '--json']);
  t.equal(r.code, 0, r.stderr);
  t.has(JSON.parse(r.stdout), { ok: true, signature: 'unsigned', files: 5 });
  r = runCli(['bundle', 'inspect', bundle]);
  t.match(r.stdout, /2 round\(s\), message 64 values as f16/);
  t.match(r.stdout, /fleetmind train --world simple_spread --actor commnet/);
  const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
  r = runCli(['eval', '--bundle', bundle, '--episodes', '30', '--seed', '0', '--json']);
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  t.equal(report.agent_return_mean, manifest.evaluation.quantized.agent_return_mean, 'eval --bundle reproduces the manifest\'s figure (the bundle\'s own quantization)');
  t.equal(report.episode_team_returns.length, 30);
  t.end();
});

t.test('keygen, sign, and verify --trust-key accept only the operator\'s signature', (t) => {
  const signed = join(dir, 'signed');
  cpSync(bundle, signed, { recursive: true });
  t.equal(runCli(['bundle', 'keygen', '--out', join(dir, 'operator')]).code, 0);
  t.equal(runCli(['bundle', 'keygen', '--out', join(dir, 'stranger')]).code, 0);
  let r = runCli(['bundle', 'keygen', '--out', join(dir, 'operator')]);
  t.equal(r.code, 2);
  t.match(r.stderr, /already exists: refusing to overwrite a key/);
  r = runCli(['bundle', 'verify', signed, '--trust-key', join(dir, 'operator.pub')]);
  t.equal(r.code, 2);
  t.match(r.stderr, /is not signed .* refusing it \[FM_ERR_BUNDLE\]/);
  t.equal(runCli(['bundle', 'sign', signed, '--key', join(dir, 'operator.key')]).code, 0);
  r = runCli(['bundle', 'verify', signed, '--trust-key', join(dir, 'operator.pub')]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /signature: trusted/);
  r = runCli(['bundle', 'verify', signed, '--trust-key', join(dir, 'stranger.pub')]);
  t.equal(r.code, 2);
  t.match(r.stderr, /does not verify with .*stranger\.pub/);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  t.end();
});

t.test('bad input to export, bundle and eval --bundle: one line, non-zero exit', (t) => {
  const tampered = join(dir, 'tampered');
  cpSync(bundle, tampered, { recursive: true });
  const p = join(tampered, 'agent', 'stage0.onnx');
  const bytes = readFileSync(p);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(p, bytes);
  const cases: [string[], RegExp][] = [
    [['bundle', 'verify', tampered], /stage0\.onnx: sha256 [0-9a-f]+ does not match/],
    [['eval', '--bundle', tampered], /stage0\.onnx: sha256/],
    [['bundle', 'verify', join(dir, 'nope')], /is not a bundle folder/],
    [['bundle', 'inspect', run], /has no manifest\.json/],
    [['export', '--run', run, '--out', bundle], /is not empty/],
    [['export', '--run', join(dir, 'nope'), '--out', join(dir, 'b2')], /is not a run folder/],
    [['export', '--run', run, '--out', join(dir, 'b3'), '--quantize', 'int4'], /Allowed choices are f32, f16, int8/],
    [['eval', '--bundle', bundle, '--world', 'spread'], /drop --world/],
    [['bundle', 'sign', bundle, '--key', join(dir, 'missing.key')], /--key: .* does not exist/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, message, args.join(' '));
  }
  t.end();
});
