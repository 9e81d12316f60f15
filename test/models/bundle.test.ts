import t from 'tap';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { evaluateController, evaluateControllerAsync, makeWorld } from '@fleetmind/worlds';
import { bundleController } from '@fleetmind/trainer/bundle-controller';
import { checkBundleFiles, generateSigningKeys, loadBundle, signBundle } from '@fleetmind/models';
import { mlpActorGraph } from '@fleetmind/models/onnx';
import { defaultMappoConfig, exportRun, greedyPolicy, RunFolder, trainMappo, useBackend } from '@fleetmind/trainer';

const root = mkdtempSync(join(tmpdir(), 'fm-bundle-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

async function trainedRun(name: string, overrides: Partial<typeof defaultMappoConfig>): Promise<string> {
  const config = { ...defaultMappoConfig, numEnvs: 32, totalSteps: 3_200, ...overrides };
  const dir = join(root, name);
  const run = RunFolder.create(dir, { config, backend: 'wasm', created: 'now', node: process.version });
  run.saveCheckpoint(await trainMappo(config));
  return dir;
}

let commnetBundle = '';
t.before(async () => {
  await useBackend('auto');
  const run = await trainedRun('commnet-run', { actor: 'commnet', msgDropout: 0.3 });
  commnetBundle = join(root, 'commnet');
  await exportRun({ run, out: commnetBundle, quantization: 'int8', episodes: 40 });
});

t.test('a CommNet export: parity over 1,000+ samples, and the bundle plays exactly the trained policy', async (t) => {
  const { manifest } = checkBundleFiles(commnetBundle);
  t.ok(manifest.parity.samples >= 1000, `${manifest.parity.samples} samples`);
  t.ok(manifest.parity.max_abs_error <= 1e-5, `max |Δlogit| ${manifest.parity.max_abs_error}`);
  t.equal(manifest.parity.action_mismatches, 0);
  t.has(manifest.communication, { rounds: 2, message_size: 64, quantization: 'int8', inbox_capacity: 2, trained: { msg_dropout: 0.3 } });
  t.equal(manifest.roles[0].observation.fields.length, 18);
  t.ok(manifest.evaluation.quantized && manifest.evaluation.msg_dropout_30, 'quantized and lossy returns recorded');

  const checkpoint = RunFolder.open(join(root, 'commnet-run')).loadCheckpoint();
  const bundle = await loadBundle(commnetBundle);
  // the graphs that take the observation take it with the agent id as one row, as the runtime feeds them
  const role = bundle.roles[0];
  t.same([role.stages[0], role.fallback].map((s) => [role.joined.has(s), s.inputNames]), [[true, ['obs_agent_id']], [true, ['obs_agent_id']]]);
  t.notOk(role.joined.has(role.stages[1]), 'a round takes no observation');
  for (const msgDropout of [0, 0.5]) {
    const w1 = makeWorld('simple_spread_v3', { numEnvs: 40, autoReset: false });
    const w2 = makeWorld('simple_spread_v3', { numEnvs: 40, autoReset: false });
    const tfjs = evaluateController(w1, greedyPolicy(checkpoint, w1, { msgDropout, seed: 3 }), 3);
    const onnx = await evaluateControllerAsync(w2, bundleController(w2, bundle, { msgDropout, seed: 3, quantization: 'f32' }), 3);
    t.same(onnx.episode_team_returns, tfjs.episode_team_returns, `episode by episode, ${msgDropout * 100}% messages lost`);
  }
  await bundle.close();
});

t.test('an MLP export of a two-role world plays exactly as trained', async (t) => {
  const run = await trainedRun('tag-run', { world: 'simple_tag_v3' });
  const out = join(root, 'tag');
  const manifest = await exportRun({ run, out, quantization: 'f32', episodes: 20 });
  t.same(manifest.roles.map((r) => [r.name, r.agents.length, r.graphs.kind]), [['adversary', 3, 'mlp'], ['agent', 1, 'mlp']]);
  t.equal(manifest.communication, null);
  const checkpoint = RunFolder.open(run).loadCheckpoint();
  const bundle = await loadBundle(out);
  const w1 = makeWorld('simple_tag_v3', { numEnvs: 20, autoReset: false });
  const w2 = makeWorld('simple_tag_v3', { numEnvs: 20, autoReset: false });
  const a = evaluateController(w1, greedyPolicy(checkpoint, w1), 1);
  const b = await evaluateControllerAsync(w2, bundleController(w2, bundle), 1);
  t.same(b.episode_team_returns, a.episode_team_returns);
  const w3 = makeWorld('simple_tag_v3', { numEnvs: 20, autoReset: false });
  const recorded = await evaluateControllerAsync(w3, bundleController(w3, bundle), 0);
  t.equal(manifest.evaluation.nominal.agent_return_mean, recorded.agent_return_mean, 'the manifest records the bundle\'s own evaluation');
  await bundle.close();
  await t.rejects(exportRun({ run, out, quantization: 'f32' }), /is not empty/);
});

/** A copy of the good bundle, damaged by `damage`; loading it must fail with `message`. */
async function refuses(t: { rejects: (...args: any[]) => Promise<unknown> }, label: string, damage: (dir: string) => void, message: RegExp, trustedKeyPem?: string): Promise<void> {
  const dir = join(root, `damaged-${label.replace(/\W+/g, '-')}`);
  cpSync(commnetBundle, dir, { recursive: true });
  damage(dir);
  await t.rejects(loadBundle(dir, { trustedKeyPem }), { code: 'FM_ERR_BUNDLE', message }, label);
}

const editManifest = (dir: string, edit: (m: Record<string, any>) => void) => {
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  edit(m);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
};

t.test('every way of damaging a bundle is caught with a precise error', async (t) => {
  await refuses(t, 'tampered', (d) => { const p = join(d, 'agent/final.onnx'); const b = readFileSync(p); b[b.length - 3] ^= 1; writeFileSync(p, b); }, /agent\/final\.onnx: sha256 [0-9a-f]+ does not match/);
  await refuses(t, 'truncated', (d) => truncateSync(join(d, 'agent/stage1.onnx'), 100), /stage1\.onnx has 100 bytes, the manifest says \d+: truncated/);
  await refuses(t, 'missing', (d) => unlinkSync(join(d, 'agent/fallback.onnx')), /fallback\.onnx is missing/);
  await refuses(t, 'extra file', (d) => writeFileSync(join(d, 'agent/evil.onnx'), 'x'), /evil\.onnx is not listed in the manifest/);
  await refuses(t, 'schema version', (d) => editManifest(d, (m) => { m.schema_version = 2; }), /schema_version 2 is not supported/);
  await refuses(t, 'bad field', (d) => editManifest(d, (m) => { m.roles[0].safe_action = 9; }), /roles\.0\.safe_action: must be an action in \[0, 5\)/);
  await refuses(t, 'too many rounds', (d) => editManifest(d, (m) => { m.communication!.rounds = 64; }), /communication\.rounds: .*(63|too big)/i);
  await refuses(t, 'not json', (d) => writeFileSync(join(d, 'manifest.json'), '{"schema_version": 1,'), /manifest\.json is not JSON/);
  await refuses(t, 'path escape', (d) => editManifest(d, (m) => { m.files['../x.onnx'] = m.files['agent/final.onnx']; }), /files: "\.\.\/x\.onnx" is not an allowed file name: (no "\.\." in paths|a relative path)/);
  await refuses(t, 'wrong shapes', (d) => {
    // a well-formed graph with the wrong observation size, pinned correctly: only the IO check can catch it
    const bytes = mlpActorGraph({ spec: { sizes: [20, 5], activation: 'tanh' }, layers: [{ w: new Array(100).fill(0), b: new Array(5).fill(0) }] }, { obsSize: 17, agentIdSize: 3 });
    writeFileSync(join(d, 'agent/fallback.onnx'), bytes);
    editManifest(d, (m) => { m.files['agent/fallback.onnx'] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length }; });
  }, /fallback\.onnx: input obs is float32 \[batch, 17\], the manifest implies float32 \[batch, 18\]/);
  await refuses(t, 'not a graph', (d) => {
    const bytes = Buffer.from('not an onnx model');
    writeFileSync(join(d, 'agent/final.onnx'), bytes);
    editManifest(d, (m) => { m.files['agent/final.onnx'] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length }; });
  }, /final\.onnx does not load in ONNX Runtime/);
});

t.test('signatures: a robot with its operator\'s key refuses unsigned, foreign-signed and re-edited bundles', async (t) => {
  const operator = generateSigningKeys();
  const stranger = generateSigningKeys();
  const signed = join(root, 'signed');
  cpSync(commnetBundle, signed, { recursive: true });
  signBundle(signed, operator.privateKeyPem);
  const ok = await loadBundle(signed, { trustedKeyPem: operator.publicKeyPem });
  t.equal(ok.signature, 'trusted');
  await ok.close();
  await refuses(t, 'unsigned', () => {}, /is not signed .* refusing it/, operator.publicKeyPem);
  await refuses(t, 'foreign', (d) => signBundle(d, stranger.privateKeyPem), /does not verify with the trusted key/, operator.publicKeyPem);
  await refuses(t, 'edited after signing', (d) => {
    signBundle(d, operator.privateKeyPem);
    editManifest(d, (m) => { m.evaluation.nominal.agent_return_mean = 0; });
  }, /does not verify|manifest changed/, operator.publicKeyPem);
  await refuses(t, 'edited after signing, no key', (d) => {
    signBundle(d, operator.privateKeyPem);
    editManifest(d, (m) => { m.version = '9.9.9'; });
  }, /the manifest changed after signing/);
});
