// Over-the-air rollouts (runtime/rollout, docs/rollout.md) on a real aedes broker with real
// agents: a bundle published in chunks is downloaded, verified and switched to between two ticks
// without a tick missed or a tier lost; a tampered, unsigned or foreign-signed bundle is refused
// by every agent and reported; a bundle whose message layout differs is refused before anything is
// published; an agent restarts on the bundle it switched to; a rollback needs no download; and a
// download resumes from the chunks already on disk.

import t from 'tap';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startBroker } from '@fleetmind/broker';
import { generateSigningKeys } from '@fleetmind/models';
import { agentTopic, bundleChunkTopic, decodeHeartbeat, encodeHeartbeat, fleetTopic, type Heartbeat } from '@fleetmind/wire';
import { BundleStore, packBundle, readRecording, replayRecording, RolloutOperator, ROLLOUT_FORMAT, type RolloutPlan } from '@fleetmind/runtime';
import { COMMNET_BUNDLE } from '../helpers/agents.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { until } from '../helpers/waiting.js';
import { serviceAvailable } from '../helpers/services.js';
import { newVersion, startRolloutFleet as startFleet, tempDir } from '../helpers/rollout-fleet.js';

const MLP_BUNDLE = join(REPO_ROOT, 'models', 'zoo', 'spread-mlp');

t.test('a bundle rolls out to a running team: downloaded, verified, switched at the agreed tick with no tick missed', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const fleet = await startFleet(t, broker.url, `ota-${process.pid}`);
  t.teardown(() => fleet.close());
  for (let k = 0; k < 3; k++) t.same((await fleet.step()).map((a) => a.tier), ['full', 'full', 'full']);
  const before = await fleet.reports();
  t.same(before.map((r) => [r.agent, r.state, r.running.version]), [['agent_0', 'idle', '1.0.0'], ['agent_1', 'idle', '1.0.0'], ['agent_2', 'idle', '1.0.0']], 'every agent reports what it runs');

  const operator = await RolloutOperator.connect({ brokerUrl: broker.url, fleet: `ota-${process.pid}` });
  t.teardown(() => operator.close());
  const v2 = newVersion(t, '1.1.0');
  const result = await operator.start({ bundleDir: v2, rollout: 'to-1-1', agents: null, switchAtTick: 8, chunkBytes: 16 * 1024 });
  t.ok(result.chunks > 3, `the bundle went out in ${result.chunks} chunks`);
  t.same(Object.keys(result.plan.replaces).sort(), ['agent_0', 'agent_1', 'agent_2'], 'the plan records what each agent ran');
  await until(async () => (await fleet.reports()).every((r) => r.state === 'staged'), 'every agent has staged 1.1.0');

  // ticks 4 … 10: the switch happens between ticks 7 and 8, inside the decisions' normal time
  const tiers: string[] = [];
  for (let tick = 4; tick <= 10; tick++) tiers.push(...(await fleet.step()).map((a) => a.tier));
  t.ok(tiers.every((tier) => tier === 'full'), 'every decision before, at and after the switch heard the whole team');
  const after = await fleet.reports();
  t.same(after.map((r) => [r.state, r.running.version, r.switched_at_tick, r.previous?.version]), [['switched', '1.1.0', 8, '1.0.0'], ['switched', '1.1.0', 8, '1.0.0'], ['switched', '1.1.0', 8, '1.0.0']]);
  t.same(fleet.agents.map((a) => a.snapshot().deadlineMisses), [0, 0, 0], 'no round missed its deadline');

  // a restart comes back on the bundle the rollout switched to
  await fleet.restart(1);
  await until(async () => (await fleet.reports()).find((r) => r.agent === 'agent_1')?.running.version === '1.1.0', 'agent_1 reports 1.1.0 after its restart');
  t.same((await fleet.step()).map((a) => a.tier), ['full', 'full', 'full']);

  // a rollback: every agent holds 1.0.0 still, so nothing is downloaded
  const back = await operator.rollback('back-to-1-0');
  t.equal(back.offer, null, 'a rollback offers nothing to download');
  await until(async () => (await fleet.reports()).every((r) => r.state === 'staged' || r.running.version === '1.0.0'), 'every agent has staged 1.0.0 again');
  await fleet.step();
  await until(async () => (await fleet.reports()).every((r) => r.running.version === '1.0.0' && r.state === 'switched'), 'every agent runs 1.0.0 again');
});

t.test('an agent offline during a rollout catches up when it returns', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const name = `ota-offline-${process.pid}`;
  const fleet = await startFleet(t, broker.url, name);
  t.teardown(() => fleet.close());
  const operator = await RolloutOperator.connect({ brokerUrl: broker.url, fleet: name });
  t.teardown(() => operator.close());
  await operator.until(() => operator.now().reports.length === 3, 'the three agents report', 10_000);
  await fleet.restart(2, async () => {
    await operator.start({ bundleDir: newVersion(t, '1.3.0'), rollout: 'while-away', agents: null, switchAtTick: null });
    await until(async () => (await fleet.reports()).filter((r) => r.state === 'staged').length === 2, 'the two agents online staged 1.3.0');
  });
  await until(async () => (await fleet.reports()).every((r) => r.state === 'staged'), 'the returning agent found the retained plan and staged 1.3.0 too');
  await fleet.step();
  await until(async () => (await fleet.reports()).every((r) => r.running.version === '1.3.0'), 'all three switched');
  t.pass('the returning agent caught up');
});

t.test('with a trust key, an unsigned or foreign-signed bundle is refused by every agent, a signed one is taken', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const operatorKeys = generateSigningKeys();
  const stranger = generateSigningKeys();
  const signed = newVersion(t, '1.0.0', operatorKeys.privateKeyPem);
  const name = `ota-trust-${process.pid}`;
  const fleet = await startFleet(t, broker.url, name, { trustedKeyPem: operatorKeys.publicKeyPem, bundle: signed });
  t.teardown(() => fleet.close());
  const operator = await RolloutOperator.connect({ brokerUrl: broker.url, fleet: name });
  t.teardown(() => operator.close());

  await operator.start({ bundleDir: newVersion(t, '2.0.0'), rollout: 'unsigned', agents: null, switchAtTick: null });
  await until(async () => (await fleet.reports()).every((r) => r.state === 'refused'), 'every agent refused the unsigned bundle');
  for (const r of await fleet.reports()) {
    t.equal(r.refused?.reason, 'unsigned', `${r.agent}: refused as unsigned`);
    t.match(r.refused?.detail, /not signed .* a trusted key was given/);
    t.equal(r.running.version, '1.0.0', `${r.agent} still runs 1.0.0`);
  }

  await operator.start({ bundleDir: newVersion(t, '2.0.1'), rollout: 'stranger', agents: null, switchAtTick: null, signingKeyPem: stranger.privateKeyPem });
  await until(async () => (await fleet.reports()).every((r) => r.refusals.bad_signature === 1), 'every agent refused the stranger\'s bundle');

  await operator.start({ bundleDir: newVersion(t, '2.0.2'), rollout: 'good', agents: ['agent_0'], switchAtTick: null, signingKeyPem: operatorKeys.privateKeyPem });
  await until(async () => (await fleet.reports()).find((r) => r.agent === 'agent_0')?.state === 'staged', 'the canary staged the signed bundle');
  const actions = await fleet.step();
  t.same(actions.map((a) => a.tier), ['full', 'full', 'full'], 'a canary on 2.0.2 and its peers on 1.0.0 still hear each other');
  await until(async () => (await fleet.reports()).find((r) => r.agent === 'agent_0')?.running.version === '2.0.2', 'the canary switched');
  const reports = await fleet.reports();
  t.same(reports.map((r) => r.running.version), ['2.0.2', '1.0.0', '1.0.0'], 'only the canary moved');
  t.same(reports.map((r) => r.refusals), [{ unsigned: 1, bad_signature: 1 }, { unsigned: 1, bad_signature: 1 }, { unsigned: 1, bad_signature: 1 }], 'refusals counted by reason');
});

t.test('tampered bytes and foreign layouts are refused; the operator refuses a layout the team cannot mix before publishing', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const name = `ota-tamper-${process.pid}`;
  const fleet = await startFleet(t, broker.url, name);
  t.teardown(() => fleet.close());
  const operator = await RolloutOperator.connect({ brokerUrl: broker.url, fleet: name });
  t.teardown(() => operator.close());

  await t.rejects(operator.start({ bundleDir: MLP_BUNDLE, rollout: 'mlp', agents: null, switchAtTick: null }), /refused before anything was published: bundle spread-mlp .* has message layout "no messages", but agent_0 runs "messages 64 × int8/);
  t.equal((await operator.read(300)).plan, null, 'no plan was published');

  // an attacker with broker access rewrites a file and the offer to match, but not the manifest's pins
  const CHUNK = 32 * 1024; // under the broker's packet limit, as every chunk must be
  const packed = packBundle(newVersion(t, '3.0.0'), CHUNK);
  const whole = Buffer.concat(packed.offer.chunks.map((_, k) => packed.chunk(k)));
  const onnx = packed.offer.files.find((f) => f.path.endsWith('.onnx'))!;
  let at = 0;
  for (const f of packed.offer.files) { if (f === onnx) break; at += f.bytes; }
  whole[at + onnx.bytes - 1] ^= 0xff;
  const { createHash } = await import('node:crypto');
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const chunks = packed.offer.chunks.map((_, k) => whole.subarray(k * CHUNK, (k + 1) * CHUNK));
  const offer = { ...packed.offer, chunks: chunks.map(sha), files: packed.offer.files.map((f) => (f === onnx ? { ...f, sha256: sha(whole.subarray(at, at + f.bytes)) } : f)) };
  const client = await mqtt.connectAsync(broker.url);
  t.teardown(() => client.endAsync());
  for (const [k, chunk] of chunks.entries()) await client.publishAsync(bundleChunkTopic(name, offer.id, k), chunk, { qos: 1, retain: true });
  const plan: RolloutPlan = { format: ROLLOUT_FORMAT, rollout: 'tampered', issued_ms: Date.now(), offer, assign: { '*': offer.id }, switch_at_tick: null, replaces: {}, shadow: false, spread_ms: 0, stage: null };
  await client.publishAsync(fleetTopic(name, 'rollout'), JSON.stringify(plan), { qos: 1, retain: true });
  await until(async () => (await fleet.reports()).every((r) => r.refused?.reason === 'integrity'), 'every agent refused the tampered bundle');
  t.match((await fleet.reports())[0].refused?.detail, /sha256 .* does not match the manifest/);

  // a plan that is not a plan
  await client.publishAsync(fleetTopic(name, 'rollout'), '{"format": "fleetmind-rollout/1", "rollout": "x"}', { qos: 1, retain: true });
  await until(async () => (await fleet.reports()).every((r) => r.refusals.malformed_plan === 1), 'every agent refused the malformed plan');
  t.same((await fleet.step()).map((a) => a.tier), ['full', 'full', 'full'], 'the team acts on, on its bundle');
  t.same((await fleet.reports()).map((r) => r.running.version), ['1.0.0', '1.0.0', '1.0.0']);
});

t.test('a switch is refused while a live teammate advertises another message layout in its heartbeats (wire 1.4)', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const name = `ota-peers-${process.pid}`;
  const fleet = await startFleet(t, broker.url, name);
  t.teardown(() => fleet.close());
  const operator = await RolloutOperator.connect({ brokerUrl: broker.url, fleet: name });
  t.teardown(() => operator.close());
  // every agent advertises what it runs
  const heard = new Map<string, Heartbeat>();
  const listener = await mqtt.connectAsync(broker.url);
  t.teardown(() => listener.endAsync());
  listener.on('message', (_topic, payload) => { const hb = decodeHeartbeat(payload); heard.set(hb.agent, hb); });
  await listener.subscribeAsync(`fm/${name}/a/+/hb`);
  await until(() => heard.size === 3 && [...heard.values()].every((hb) => hb.online), 'a heartbeat from every agent');
  const running = (await fleet.reports())[0].running;
  t.same([...heard.values()].map((hb) => [hb.bundleId, hb.layout]), [0, 1, 2].map(() => [running.id, 'messages 64 × int8, 2 rounds, inbox 2']));

  // agent_2 is replaced by hand with a robot running another layout (its heartbeats say so)
  await fleet.agents[2].stop();
  const impostor = await mqtt.connectAsync(broker.url);
  t.teardown(() => impostor.endAsync());
  const beat = () => impostor.publishAsync(agentTopic(name, 'agent_2', 'hb'), Buffer.from(encodeHeartbeat({ agent: 'agent_2', online: true, tick: 1, sentUs: Date.now() * 1000, bundleId: 'ab'.repeat(32), layout: 'messages 32 × f16, 1 round, inbox 2' })));
  await beat();
  const beating = setInterval(() => void beat(), 50);
  t.teardown(() => clearInterval(beating));
  await until(() => fleet.agents[0].livePeers().includes('agent_2'), 'agent_0 hears the new agent_2');
  await operator.start({ bundleDir: newVersion(t, '1.0.1'), rollout: 'mixed', agents: ['agent_0'], switchAtTick: null });
  await until(async () => (await fleet.reports())[0].state === 'refused', 'agent_0 refuses the switch');
  const report = (await fleet.reports())[0];
  t.equal(report.refused?.reason, 'incompatible');
  t.match(report.refused?.detail, /differs from what agent_2 runs \(messages 32 × f16, 1 round, inbox 2\)/);
  t.equal(report.running.version, '1.0.0', 'it runs its bundle still');

  // the odd robot leaves: the same bundle is taken
  clearInterval(beating);
  await impostor.publishAsync(agentTopic(name, 'agent_2', 'hb'), Buffer.from(encodeHeartbeat({ agent: 'agent_2', online: false, tick: 1, sentUs: Date.now() * 1000 })));
  await until(() => !fleet.agents[0].livePeers().includes('agent_2'), 'agent_0 sees agent_2 go');
  await operator.start({ bundleDir: newVersion(t, '1.0.2'), rollout: 'alone', agents: ['agent_0'], switchAtTick: null });
  // (staged: checked and loaded, switching at its next tick, which this team without agent_2 does not play)
  await until(async () => (await fleet.reports())[0].state === 'staged', 'agent_0 stages the bundle');
  t.equal((await fleet.reports())[0].refused, null);
});

t.test('a download resumes from the chunks on disk after a restart, and a wrong chunk is refused', async (t) => {
  const root = tempDir(t, 'fm-store-');
  const packed = packBundle(COMMNET_BUNDLE, 8 * 1024);
  const first = new BundleStore(root).download(packed.offer);
  for (let k = 0; k < 5; k++) first.put(k, packed.chunk(k));
  t.throws(() => first.put(5, packed.chunk(6)), /chunk 5 .* its sha256 is not the offer's/);
  const again = new BundleStore(root).download(packed.offer);
  t.equal(again.received, 5, 'the restarted store has the five chunks it kept');
  t.same(again.missing().slice(0, 2), [5, 6]);
  for (const k of again.missing()) again.put(k, packed.chunk(k));
  t.ok(again.complete);
  const dir = await again.finish();
  t.equal(readFileSync(join(dir, 'manifest.json'), 'utf8'), readFileSync(join(COMMNET_BUNDLE, 'manifest.json'), 'utf8'), 'the bundle is whole again');
  t.throws(() => new BundleStore(root, 1000).download(packed.offer), /more than this store takes \(1000\)/);
});

t.test('a download cut by a broker outage resumes from the chunks it has when the broker is back', async (t) => {
  const first = await startBroker({ port: 0, allowAnonymous: true });
  const port = Number(new URL(first.url).port);
  const name = `ota-outage-${process.pid}`;
  const fleet = await startFleet(t, first.url, name);
  t.teardown(() => fleet.close());
  const packed = packBundle(newVersion(t, '1.4.0'), 8 * 1024);
  const half = Math.floor(packed.offer.chunks.length / 2);
  t.ok(half >= 4, `${packed.offer.chunks.length} chunks`);
  const plan: RolloutPlan = { format: ROLLOUT_FORMAT, rollout: 'across-an-outage', issued_ms: Date.now(), offer: packed.offer, assign: { '*': packed.offer.id }, switch_at_tick: null, replaces: {}, shadow: false, spread_ms: 0, stage: null };
  const publish = async (url: string, chunks: number[]) => {
    const client = await mqtt.connectAsync(url);
    for (const k of chunks) await client.publishAsync(bundleChunkTopic(name, packed.offer.id, k), Buffer.from(packed.chunk(k)), { qos: 1, retain: true });
    await client.publishAsync(fleetTopic(name, 'rollout'), JSON.stringify(plan), { qos: 1, retain: true });
    await client.endAsync();
  };
  // the first broker only ever has the first half
  await publish(first.url, Array.from({ length: half }, (_, k) => k));
  await until(async () => (await fleet.reports()).every((r) => r.download?.have === half), `every agent has the first ${half} chunks`);
  await first.close();
  // a new broker on the same address, with only the second half: the download can finish only by resuming
  const second = await startBroker({ port, allowAnonymous: true });
  t.teardown(() => second.close());
  await publish(second.url, Array.from({ length: packed.offer.chunks.length - half }, (_, k) => half + k));
  // (the fleet helper's operator went down with the first broker: read the reports anew)
  const operator = await RolloutOperator.connect({ brokerUrl: second.url, fleet: name });
  t.teardown(() => operator.close());
  await operator.until(() => operator.now().reports.length === 3 && operator.now().reports.every((r) => r.state === 'staged'), 'every agent finished the download after the outage', 20_000);
  t.same(operator.now().reports.map((r) => r.refusals), [{}, {}, {}], 'nothing refused');
});

t.test('over the machine\'s Mosquitto too: a rollout and its rollback, and nothing left retained', async (t) => {
  if (!(await serviceAvailable(t, 'Mosquitto', 1883))) return;
  const url = 'mqtt://127.0.0.1:1883';
  const name = `ota-mosquitto-${process.pid}-${Date.now() % 1e6}`;
  const fleet = await startFleet(t, url, name);
  t.teardown(() => fleet.close());
  const operator = await RolloutOperator.connect({ brokerUrl: url, fleet: name });
  t.teardown(() => operator.close());
  await operator.until(() => operator.now().reports.length === 3, 'the three agents report', 10_000);
  const started = await operator.start({ bundleDir: newVersion(t, '1.5.0'), rollout: 'on-mosquitto', agents: null, switchAtTick: null, waitMs: 200 });
  // Mosquitto keeps retained messages for good: clear this run's plan, chunks and reports at the end
  t.teardown(async () => {
    const client = await mqtt.connectAsync(url);
    const topics = [fleetTopic(name, 'rollout'), ...started.plan.offer!.chunks.map((_, k) => bundleChunkTopic(name, started.plan.offer!.id, k)), ...['agent_0', 'agent_1', 'agent_2'].map((a) => `fm/${name}/a/${a}/rollout`)];
    for (const topic of topics) await client.publishAsync(topic, Buffer.alloc(0), { qos: 1, retain: true });
    await client.endAsync();
  });
  await until(async () => (await fleet.reports()).every((r) => r.state === 'staged'), 'every agent staged 1.5.0 through Mosquitto');
  t.same((await fleet.step()).map((a) => a.tier), ['full', 'full', 'full']);
  await until(async () => (await fleet.reports()).every((r) => r.running.version === '1.5.0'), 'every agent switched');
  await operator.rollback('back-on-mosquitto', 200);
  await until(async () => (await fleet.reports()).every((r) => r.state === 'staged' && r.staged?.version === '1.0.0'), 'every agent staged 1.0.0 again');
  await fleet.step();
  await until(async () => (await fleet.reports()).every((r) => r.running.version === '1.0.0'), 'every agent is back on 1.0.0');
});

t.test('a flight recording across a switch: a new file from the switching tick, each replayed exactly by its own bundle', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const name = `ota-record-${process.pid}`;
  const records = tempDir(t, 'fm-rec-');
  const fleet = await startFleet(t, broker.url, name, { settings: { record: { dir: records } } });
  t.teardown(() => fleet.close());
  const operator = await RolloutOperator.connect({ brokerUrl: broker.url, fleet: name });
  t.teardown(() => operator.close());
  await operator.until(() => operator.now().reports.length === 3, 'the three agents report', 10_000);
  for (let k = 0; k < 3; k++) await fleet.step();
  await operator.start({ bundleDir: newVersion(t, '1.6.0'), rollout: 'recorded', agents: null, switchAtTick: 5, waitMs: 100 });
  await until(async () => (await fleet.reports()).every((r) => r.state === 'staged'), 'every agent staged 1.6.0');
  for (let k = 0; k < 4; k++) await fleet.step(); // ticks 4 … 7: the switch at 5
  await fleet.close();
  const files = readdirSync(records).filter((f) => f.startsWith('agent_0-')).sort();
  t.equal(files.length, 2, 'two files for agent_0: before and after the switch');
  const recordings = await Promise.all(files.map((f) => readRecording(join(records, f))));
  t.same(recordings.map((r) => r.metadata.bundle_version), ['1.0.0', '1.6.0']);
  t.same(recordings.map((r) => r.ticks.map((x) => x.tick)), [[1, 2, 3, 4], [5, 6, 7]], 'the switching tick opens the new file');
  for (const recording of recordings) {
    const replay = await replayRecording(recording);
    t.ok(replay.bundle.recorded && replay.compared === recording.ticks.length && replay.differences.length === 0, `${recording.metadata.bundle_version}: every tick made again, identical`);
  }
});

t.test('a store the agent cannot write ends the rollout as store_failed, and the agent acts on', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const name = `ota-store-${process.pid}`;
  const fleet = await startFleet(t, broker.url, name);
  t.teardown(() => fleet.close());
  // agent_2's downloads folder is a file now: nothing can be written under it
  rmSync(join(fleet.stores[2], 'downloads'), { recursive: true, force: true });
  writeFileSync(join(fleet.stores[2], 'downloads'), 'not a folder');
  const operator = await RolloutOperator.connect({ brokerUrl: broker.url, fleet: name });
  t.teardown(() => operator.close());
  await operator.until(() => operator.now().reports.length === 3, 'the three agents report', 10_000);
  await operator.start({ bundleDir: newVersion(t, '1.7.0'), rollout: 'no-room', agents: null, switchAtTick: null, waitMs: 100 });
  await until(async () => (await fleet.reports()).find((r) => r.agent === 'agent_2')?.state === 'refused', 'agent_2 gave the rollout up');
  const report = (await fleet.reports()).find((r) => r.agent === 'agent_2')!;
  t.equal(report.refused?.reason, 'store_failed');
  t.match(report.refused?.detail, /ENOTDIR|not a directory/);
  await until(async () => (await fleet.reports()).filter((r) => r.state === 'staged').length === 2, 'the others staged 1.7.0');
  t.same((await fleet.step()).map((a) => a.tier), ['full', 'full', 'full'], 'agent_2, on 1.0.0, and its peers, on 1.7.0, still hear each other');
});
