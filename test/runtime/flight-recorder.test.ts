// The flight recorder: a faulted simulation's recordings replay to the same actions tick by
// tick (in this process and in child processes); a SIGKILLed writer leaves a file that reads up
// to its last chunk; files rotate within a disk budget; the schema in the file decodes the
// messages on its own (what Foxglove does); bad recordings and bundles are refused clearly.

import t from 'tap';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { McapStreamReader } from '@mcap/core';
import zstd from '@foxglove/wasm-zstd';
import { parseFaultPlan, runCampaign, type FleetMode } from '@fleetmind/sim-harness/fleet';
import { createAgent, FlightRecorder, InProcessAdapter, readRecording, replayRecording } from '@fleetmind/runtime';
import { pino } from 'pino';
import type { RecordedTick } from '@fleetmind/wire';
import { REPO_ROOT } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';

const bundle = join(REPO_ROOT, 'models', 'zoo', 'spread-commnet');
const plan = parseFaultPlan(`
faults:
  - { kind: drop, p: 0.3 }
  - { kind: crash, agents: [agent_1], window: { ticks: [6, 25] }, restart_after_ticks: 5 }
  - { kind: sensor_noise, agents: [agent_2], sigma: 0.05 }
`);

const mcapFiles = (dir: string, prefix = '') => readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.mcap')).sort().map((f) => join(dir, f));

for (const mode of ['inproc', 'procs'] as FleetMode[]) {
  t.test(`a faulted ${mode} simulation's recordings replay to the same actions, tick by tick`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'fm-rec-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const result = await runCampaign({ bundle, plan, episodes: 2, seed: 3, mode, reportDir: null, recordDir: dir });
    const faulted = join(dir, 'faulted');
    let ticks = 0;
    let partial = 0;
    for (const file of mcapFiles(faulted, 'agent_')) {
      const recording = await readRecording(file);
      if (recording.ticks.length === 0) continue; // a life that ended before its first chunk was cut
      const report = await replayRecording(recording);
      t.equal(report.bundle.recorded, true);
      t.same(report.differences, [], `${file}: every action the same`);
      t.equal(report.compared + Object.values(report.skipped).reduce((a, b) => a + b, 0), recording.ticks.length);
      ticks += recording.ticks.length;
      partial += recording.ticks.filter((r) => r.tier === 'partial').length;
      // the inbox was recorded as the graph saw it: slots hold peers, masks follow
      const rounds = recording.ticks.filter((x) => x.path === 'rounds').map((x) => x.rounds);
      t.ok(rounds.length > 0 && rounds.every((r) => r.length === 2), 'two rounds a tick');
      const messages = rounds.flat().flatMap((r) => r.inbox);
      t.ok(messages.length > 0 && messages.every((m) => m.slot < 2 && m.payload.length === 64 && m.receivedUs >= m.sentUs), 'int8 messages of 64 values in the 2 slots, arriving after they were sent');
    }
    t.ok(partial > 0, `messages were lost in some recorded rounds (${partial} partial ticks)`);
    // agent_1 crashed and restarted: a file for each life; its first life ended without a footer
    t.ok(mcapFiles(faulted, 'agent_1-').length >= 2, 'a recording per life of the crashed agent');
    for (const agent of ['agent_0', 'agent_2']) {
      const [file] = mcapFiles(faulted, `${agent}-`);
      t.equal((await readRecording(file)).ticks.length, 2 * 25, `${agent}, never crashed: every tick recorded`);
    }
    t.ok(ticks < 3 * 2 * 25, 'the crashed agent lost ticks: its dead time, and the chunk the crash took');

    const [worldFile] = mcapFiles(faulted, 'world-');
    const world = await readRecording(worldFile);
    t.equal(world.metadata.kind, 'world');
    t.equal(world.world.length, 2 * 25, 'one ground-truth record per env step');
    t.equal(world.world[0].positions.length, 2 * (3 + 3), 'x, y of 3 agents and 3 landmarks');
    t.ok(world.world.some((w) => w.faults.includes('crash agent_1')), 'the crash is in the ground truth when it struck');
    const teamReturns = [0, 1].map((e) => world.world.filter((w) => w.episode === e).reduce((s, w) => s + w.rewards.reduce((a, b) => a + b, 0), 0));
    t.same(teamReturns.map((x) => x.toFixed(6)), result.run.episode_team_returns.map((x) => x.toFixed(6)), 'the recorded rewards sum to the reported returns');

    // the CLI agrees, and another bundle is a shadow evaluation, not a failure
    const cli = runCli(['replay', faulted, '--json']);
    t.equal(cli.code, 0, cli.stderr);
    t.ok(JSON.parse(cli.stdout).every((r: { agreement: number }) => r.agreement === 1));
    const shadow = runCli(['replay', faulted, '--bundle', 'models/zoo/spread-mlp', '--json']);
    t.equal(shadow.code, 0, shadow.stderr);
    const agreements = JSON.parse(shadow.stdout).map((r: { agreement: number }) => r.agreement);
    t.ok(agreements.every((a: number) => a > 0 && a < 1), `another policy agrees sometimes: ${agreements}`);
  });
}

const tickRecord = (tick: number): RecordedTick => ({
  tick, startedUs: 1_700_000_000_000_000 + tick * 100_000, observation: Float32Array.from({ length: 18 }, (_, k) => Math.sin(tick + k)),
  path: 'mlp', rounds: [], policyAction: tick % 5, action: tick % 5, policyVector: null, vector: null, tier: 'full', shielded: false, safeReason: '', memoryReset: '', silent: false,
  inferenceMs: 0.02, waitingMs: 0, tickMs: 0.1,
});

t.test('a SIGKILLed recorder leaves a file that reads up to its last whole chunk', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-kill-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'writer.mjs');
  writeFileSync(script, `
    import { FlightRecorder } from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'runtime', 'dist', 'index.js')).href)};
    const recorder = await FlightRecorder.open({ dir: ${JSON.stringify(dir)}, prefix: 'robot', chunkBytes: 4096 }, { agent: 'robot' });
    let tick = 0;
    setInterval(() => {
      for (let k = 0; k < 50; k++, tick++) recorder.tick({ tick, startedUs: tick, observation: new Float32Array(18).fill(tick), path: 'mlp', rounds: [],
        policyAction: tick % 5, action: tick % 5, policyVector: null, vector: null, tier: 'full', shielded: false, safeReason: '', inferenceMs: 0, waitingMs: 0, tickMs: 0 }, tick);
      console.log(tick);
    }, 5);
  `);
  const child = spawn(process.execPath, [script], { cwd: join(REPO_ROOT, 'runtime'), stdio: ['ignore', 'pipe', 'inherit'] });
  // written past a few chunks: then the kill, mid-stream
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => { if (Number(line) >= 2_000) resolve(); });
    child.once('exit', (code) => reject(new Error(`the writer exited with ${code} before the kill`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const [file] = mcapFiles(dir, 'robot-');
  const recording = await readRecording(file);
  t.equal(recording.truncated, true, 'no footer: the writer was killed');
  t.ok(recording.ticks.length >= 1_500, `${recording.ticks.length} of ≥ 2000 ticks survive (at most the last chunk is lost)`);
  t.same(recording.ticks.map((r) => r.tick), recording.ticks.map((_, i) => i), 'in order, none missing, none damaged');
});

t.test('recordings rotate by size and keep within the disk budget, oldest first', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-rot-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const recorder = await FlightRecorder.open({ dir, prefix: 'agent_0', maxFileBytes: 65_536, budgetBytes: 200_000, chunkBytes: 8_192, compression: 'none' }, { agent: 'agent_0' });
  for (let tick = 0; tick < 5_000; tick++) recorder.tick(tickRecord(tick), tick);
  await recorder.close();
  const files = mcapFiles(dir, 'agent_0-');
  const total = files.reduce((s, f) => s + statSync(f).size, 0);
  t.ok(recorder.stats.files > files.length && recorder.stats.deleted > 0, `${recorder.stats.files} files written, ${recorder.stats.deleted} deleted`);
  t.ok(total <= 200_000, `${total} bytes on disk within the 200,000-byte budget`);
  const kept = await Promise.all(files.map(readRecording));
  t.ok(kept.every((r) => !r.truncated), 'every finished file has its footer');
  const ticks = kept.flatMap((r) => r.ticks.map((x) => x.tick));
  t.equal(ticks.at(-1), 4_999, 'the newest ticks are kept');
  t.same(ticks, ticks.map((_, i) => ticks[0] + i), 'the kept files are one continuous stretch');
  t.ok(files.every((f) => statSync(f).size < 65_536 + 16_384), 'each file stops near its size limit');
});

t.test('recordings rotate by age', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-age-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let now = 1_000_000;
  const recorder = await FlightRecorder.open({ dir, prefix: 'agent_3', maxFileAgeMs: 60_000, clock: () => now }, { agent: 'agent_3' });
  for (let tick = 0; tick < 30; tick++) {
    recorder.tick(tickRecord(tick), tick);
    now += 5_000; // a tick every 5 s of this clock: a new file each minute
  }
  await recorder.close();
  const files = mcapFiles(dir, 'agent_3-');
  t.equal(files.length, 3, '150 s of ticks in files of at most a minute');
  const ticks = await Promise.all(files.map(async (f) => (await readRecording(f)).ticks.map((r) => r.tick)));
  t.same(ticks.map((x) => x.length), [12, 12, 6], 'each file holds a minute of ticks');
  t.same(ticks.flat(), Array.from({ length: 30 }, (_, i) => i), 'none lost at the seams');
});

t.test('the schema in the file decodes its messages on its own, as Foxglove does', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-schema-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const recorder = await FlightRecorder.open({ dir, prefix: 'agent_0' }, { agent: 'agent_0' });
  recorder.tick(tickRecord(7), 7);
  recorder.counters({ ticks: 8, tier_full: 8 }, 8);
  await recorder.close();
  await zstd.isLoaded;
  const reader = new McapStreamReader({ decompressHandlers: { zstd: (b, size) => zstd.decompress(b, Number(size)) } });
  reader.append(readFileSync(mcapFiles(dir)[0]));
  const schemas = new Map<number, { name: string; data: Uint8Array; encoding: string }>();
  const channels = new Map<number, { schemaId: number; topic: string; messageEncoding: string }>();
  const decoded: Record<string, unknown> = {};
  for (let r = reader.nextRecord(); r; r = reader.nextRecord()) {
    if (r.type === 'Schema') schemas.set(r.id, r);
    if (r.type === 'Channel') channels.set(r.id, r);
    if (r.type === 'Message') {
      const channel = channels.get(r.channelId)!;
      const schema = schemas.get(channel.schemaId)!;
      t.equal(schema.encoding, 'protobuf');
      t.equal(channel.messageEncoding, 'protobuf');
      const set = descriptor.FileDescriptorSet.decode(schema.data);
      const root = (protobuf.Root as unknown as { fromDescriptor(d: unknown): protobuf.Root }).fromDescriptor(set);
      decoded[channel.topic] = root.lookupType(schema.name).toObject(root.lookupType(schema.name).decode(r.data), { longs: Number });
    }
  }
  const tick = decoded['/fleetmind/tick'] as { tick: number; policy_action: number; observation: number[] };
  t.equal(tick.tick, 7);
  t.equal(tick.policy_action, 2);
  t.equal(tick.observation.length, 18);
  // a map is repeated key/value entries to a descriptor-driven reader
  const entries = (decoded['/fleetmind/counters'] as { counters: { key: string; value: number }[] }).counters;
  t.same(Object.fromEntries(entries.map((e) => [e.key, e.value])), { ticks: 8, tier_full: 8 });
});

t.test('bad recordings, missing bundles and unwritable folders are refused with what and where', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-bad-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const junk = join(dir, 'junk.mcap');
  writeFileSync(junk, 'not an mcap file at all');
  await t.rejects(readRecording(junk), { message: /junk\.mcap is not a readable MCAP file/ });
  const cli = runCli(['replay', junk]);
  t.equal(cli.code, 2);
  t.match(cli.stderr, /junk\.mcap is not a readable MCAP file.*\[FM_ERR_RECORDING\]/s);
  t.match(runCli(['replay', join(dir, 'nothing-here')]).stderr, /no such file or folder/);

  // recorded with a bundle that has since gone
  const copy = join(dir, 'bundle');
  cpSync(join(REPO_ROOT, 'models', 'zoo', 'spread-mlp'), copy, { recursive: true });
  const recDir = join(dir, 'rec');
  const recorder = await FlightRecorder.open({ dir: recDir, prefix: 'agent_0' }, {
    agent: 'agent_0', bundle_dir: copy, manifest_sha256: '0'.repeat(64), message_size: '0', quantization: 'f32', rounds: '0',
  });
  recorder.tick(tickRecord(1), 1);
  await recorder.close();
  const recording = await readRecording(mcapFiles(recDir)[0]);
  await t.rejects(replayRecording(recording), { message: /is not the recorded bundle: its manifest's sha256 is [0-9a-f]{64}, the recording's 0000/ });
  rmSync(copy, { recursive: true });
  await t.rejects(replayRecording(recording), { message: /cannot be read .*give the bundle with --bundle DIR/ });
  const other = await replayRecording(recording, join(REPO_ROOT, 'models', 'zoo', 'spread-mlp'));
  t.equal(other.compared, 1, 'another bundle given on purpose replays');

  writeFileSync(join(dir, 'file'), '');
  await t.rejects(FlightRecorder.open({ dir: join(dir, 'file', 'sub'), prefix: 'a' }, {}), { code: 'FM_ERR_RECORDING', message: /cannot record in .*file\/sub: ENOTDIR/ });
});

t.test('an agent with a recorder records its shield\'s overrides and reports the recorder in its metrics', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-agent-rec-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const acted: number[] = [];
  let waiting: (() => void) | null = null;
  const adapter = new InProcessAdapter((a) => { acted.push(a.tick); waiting?.(); });
  // a shield that turns every action 1 into 0, so the recording shows policy and applied actions apart
  const agent = await createAgent({
    bundle: join(REPO_ROOT, 'models', 'zoo', 'spread-mlp'), agentId: 'agent_0', broker: null, adapter, logger: pino({ level: 'silent' }),
    record: { dir }, shield: ({ action }) => (action === 1 ? 0 : null),
  });
  for (let tick = 1; tick <= 40; tick++) {
    const done = new Promise<void>((resolve) => { waiting = resolve; });
    adapter.observe({ tick, values: Float32Array.from({ length: 18 }, (_, k) => Math.sin(tick * 0.7 + k)) });
    await done;
  }
  const metrics = await agent.metrics.registry.metrics();
  await agent.stop();
  t.match(metrics, /fleetmind_agent_recording_records\{[^}]*\} \d+/);
  t.match(metrics, /fleetmind_agent_recording_failures\{[^}]*\} 0/);
  const [file] = mcapFiles(dir, 'agent_0-');
  const recording = await readRecording(file);
  t.equal(recording.ticks.length, 40);
  const overridden = recording.ticks.filter((r) => r.shielded);
  t.ok(overridden.length > 0 && overridden.every((r) => r.policyAction === 1 && r.action === 0), `${overridden.length} overrides: the policy's 1, the shield's 0`);
  t.ok(recording.counters.length >= 1 && recording.counters.at(-1)!.values.ticks === 40, 'the counters, last written at the stop');
  t.same((await replayRecording(recording)).differences, [], 'the policy\'s own actions replay');
});
