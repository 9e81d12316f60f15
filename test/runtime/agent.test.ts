// The edge agent against real brokers: the embedded aedes broker on a loopback port and the
// machine's Mosquitto on 127.0.0.1:1883.

import t, { type Test } from 'tap';
import { pino } from 'pino';
import { startBroker, type FleetBroker } from '@fleetmind/broker';
import { batchedInference, createAgent, MqttAdapter, mqttTransport, sharedConnections } from '@fleetmind/runtime';
import { agentTopic, encodeHeartbeat, encodeObservation, encodePeerMessage, decodeAction } from '@fleetmind/wire';
import { LinkProxy } from '@fleetmind/sim-harness/network';
import { startTestFleet, untilAllLive, COMMNET_BUNDLE } from '../helpers/agents.js';
import { connect } from '../helpers/mqtt.js';
import { serviceAvailable } from '../helpers/services.js';
import { until } from '../helpers/waiting.js';

interface BrokerUnderTest { name: string; url: string; close(): Promise<void> }

const BROKERS: { name: string; start(t: Test): Promise<BrokerUnderTest | null> }[] = [
  {
    name: 'aedes',
    async start() {
      // packets up to 1 MiB pass the broker, so that the agent's own size limits are what is tested
      const b: FleetBroker = await startBroker({ port: 0, allowAnonymous: true, maxPacketSize: 1 << 20 });
      return { name: 'aedes', url: b.url, close: () => b.close() };
    },
  },
  {
    name: 'mosquitto',
    async start(t) {
      if (!(await serviceAvailable(t, 'Mosquitto', 1883))) return null;
      return { name: 'mosquitto', url: 'mqtt://127.0.0.1:1883', close: async () => {} };
    },
  },
];

const fleetName = (broker: string, scenario: string) => `t-${broker}-${scenario}-${process.pid}`;

for (const kind of BROKERS) {
  t.test(`${kind.name}: peers exchange messages every round and act on full communication`, async (t) => {
    const broker = await kind.start(t);
    if (!broker) return;
    t.teardown(() => broker.close());
    const fleet = await startTestFleet(broker.url, fleetName(kind.name, 'exchange'));
    t.teardown(() => fleet.close());
    await untilAllLive(fleet);
    for (let k = 0; k < 5; k++) {
      const actions = await fleet.step();
      t.same(actions.map((a) => a.tier), ['full', 'full', 'full'], `tick ${k + 1}: every agent heard both teammates in both rounds`);
    }
    for (const agent of fleet.agents) {
      const s = agent.snapshot();
      t.equal(s.messages.sent, 10, `${agent.agentId} sent one message per round per tick`);
      t.equal(s.messages.received, 20, `${agent.agentId} accepted both teammates' messages each round`);
      t.same(s.messages.dropped, {}, `${agent.agentId} refused nothing`);
      t.equal(s.deadlineMisses, 0);
    }
  });

  t.test(`${kind.name}: agents on one shared connection exchange every round's messages; a killed one's will still reaches its peers`, async (t) => {
    const broker = await kind.start(t);
    if (!broker) return;
    t.teardown(() => broker.close());
    const shared = sharedConnections('test');
    const fleet = await startTestFleet(broker.url, fleetName(kind.name, 'shared'), { transport: shared.transport, roundDeadlineMs: 2_000, peerTimeoutMs: 5_000 });
    t.teardown(async () => { await fleet.close(); await shared.close(); });
    t.equal(shared.size, 1, 'three agents, one connection');
    await untilAllLive(fleet);
    for (let k = 0; k < 5; k++) {
      const actions = await fleet.step();
      t.same(actions.map((a) => a.tier), ['full', 'full', 'full'], `tick ${k + 1}: every agent heard both teammates in both rounds`);
    }
    for (const agent of fleet.agents) {
      t.equal(agent.snapshot().messages.received, 20, `${agent.agentId} accepted both teammates' messages each round, once each`);
      t.same(agent.snapshot().messages.dropped, {}, `${agent.agentId} refused nothing`);
    }
    await fleet.agents[2].kill();
    await until(() => fleet.agents[0].livePeers().length === 1, 'agent_0 hears agent_2 gone', 2_000);
    t.same(fleet.agents[0].livePeers(), ['agent_1'], 'the will, published for the killed agent on the shared connection, marks it offline well before its heartbeat would time out (5 s)');
    const after = await fleet.stepSome(new Set([2]));
    t.same(after.map((a) => a.tier), ['partial', 'partial'], 'the other two go on without it');
  });

  t.test(`${kind.name}: agents on a shared connection with batched inference decide as agents each on their own`, async (t) => {
    const broker = await kind.start(t);
    if (!broker) return;
    t.teardown(() => broker.close());
    const shared = sharedConnections('test');
    const batched = batchedInference();
    const together = await startTestFleet(broker.url, fleetName(kind.name, 'batched'), { transport: shared.transport, policy: batched, roundDeadlineMs: 2_000, peerTimeoutMs: 5_000 });
    t.teardown(async () => { await together.close(); await shared.close(); });
    const apart = await startTestFleet(broker.url, fleetName(kind.name, 'apart'), { roundDeadlineMs: 2_000, peerTimeoutMs: 5_000 });
    t.teardown(() => apart.close());
    await untilAllLive(together);
    await untilAllLive(apart);
    for (let k = 0; k < 8; k++) {
      const [a, b] = [await together.step(), await apart.step()];
      t.same(a.map((x) => x.tier), ['full', 'full', 'full'], `tick ${k + 1}: every agent heard both teammates`);
      t.same(a.map((x) => x.action), b.map((x) => x.action), `tick ${k + 1}: the same actions`);
    }
    t.ok(batched.stats.calls > 0 && batched.stats.carried > batched.stats.calls, `several agents' calls shared a graph call (${batched.stats.carried} calls in ${batched.stats.calls})`);
  });

  t.test(`${kind.name}: a dead peer is masked, and no longer waited for once its heartbeat times out or its will arrives`, async (t) => {
    const broker = await kind.start(t);
    if (!broker) return;
    t.teardown(() => broker.close());
    const fleetId = fleetName(kind.name, 'dead-peer');
    // agent_2 is played by a raw client that heartbeats, then freezes: connected but silent
    // the timeout far beyond a round's deadline: a loaded machine's stall cannot end the peer's life before the first round waited for it
    const fleet = await startTestFleet(broker.url, fleetId, { roundDeadlineMs: 60, peerTimeoutMs: 1_500 }, [0, 1]);
    t.teardown(() => fleet.close());
    const frozen = await connect(broker.url);
    t.teardown(() => { frozen.end(true); });
    const beat = setInterval(() => frozen.publish(agentTopic(fleetId, 'agent_2', 'hb'), Buffer.from(encodeHeartbeat({ agent: 'agent_2', online: true, tick: 0, sentUs: Date.now() * 1000 }))), 50);
    await untilAllLive(fleet, 2);
    clearInterval(beat);
    const frozeAt = performance.now();
    const early = await fleet.step();
    t.same(early.map((a) => a.tier), ['partial', 'partial'], 'the silent peer is masked out');
    t.ok(fleet.agents[0].snapshot().deadlineMisses >= 1, 'while it still counts as live, the round waits for it until the deadline');
    t.ok(performance.now() - frozeAt < 1_500, 'that happened inside the heartbeat timeout');
    await untilAllLive(fleet, 1);
    const missesBefore = fleet.agents[0].snapshot().deadlineMisses;
    const t0 = performance.now();
    const later = await fleet.step();
    t.same(later.map((a) => a.tier), ['partial', 'partial']);
    t.equal(fleet.agents[0].snapshot().deadlineMisses, missesBefore, `after the timeout the dead peer is not waited for: no round ran out its deadline (the tick took ${(performance.now() - t0).toFixed(1)} ms)`);

    // agent_1 crashes: the broker publishes its last will, and agent_0 stops waiting at once
    await fleet.agents[1].kill();
    await until(() => fleet.agents[0].livePeers().length === 0, 'agent_0 hears no live peer', 1_000);
    t.same(fleet.agents[0].livePeers(), [], 'the last will marks the crashed agent offline well before its heartbeat would time out');
    const alone = await fleet.stepSome(new Set([1]));
    t.equal(alone[0].tier, 'none', 'with nobody left to hear, the agent acts without communication');
  });

  t.test(`${kind.name}: hostile bytes on every topic are refused and counted; the agents keep acting`, async (t) => {
    const broker = await kind.start(t);
    if (!broker) return;
    t.teardown(() => broker.close());
    const fleetId = fleetName(kind.name, 'hostile');
    const fleet = await startTestFleet(broker.url, fleetId);
    t.teardown(() => fleet.close());
    // a fourth agent on the MQTT adapter, to attack its observation topic too
    const mqttAgent = await createAgent({ bundle: fleet.bundle, agentId: 'agent_0', broker: broker.url, fleet: `${fleetId}-obs`, adapter: new MqttAdapter(), logger: pino({ level: 'silent' }) });
    t.teardown(() => mqttAgent.stop());
    await untilAllLive(fleet);
    await fleet.step();
    await fleet.step();
    const attacker = await connect(broker.url);
    t.teardown(() => { attacker.end(true); });
    const msgTopic = agentTopic(fleetId, 'agent_1', 'msg');
    const good = (fields: Partial<Parameters<typeof encodePeerMessage>[0]>) => Buffer.from(encodePeerMessage({
      fleet: fleetId, agent: 'agent_1', tick: 2, round: 1, payload: new Uint8Array(64), scale: 0.01, sentUs: Date.now() * 1000, ...fields,
    }));
    const attacks: [string, Buffer][] = [
      [msgTopic, Buffer.from([0xff, 0xfe, 0x07, 0x99, 0x13, 0x00, 0x42])],
      [msgTopic, Buffer.alloc(5000, 7)],
      [msgTopic, good({ fleet: 'someone-else' })],
      [msgTopic, good({ agent: 'agent_2' })],
      [msgTopic, good({ tick: 1 })],
      [msgTopic, good({ tick: 4, round: 1 })],
      [msgTopic, good({ tick: 4, round: 1 })],
      [msgTopic, good({ tick: 400 })],
      [msgTopic, good({ tick: 4, round: 9 })],
      [msgTopic, good({ payload: new Uint8Array(10) })],
      [agentTopic(fleetId, 'agent_1', 'hb'), Buffer.from('not a heartbeat at all, just text')],
      [agentTopic(fleetId, 'agent_1', 'hb'), Buffer.from(encodeHeartbeat({ agent: 'agent_2', online: false, tick: 0, sentUs: 0 }))],
      [agentTopic(`${fleetId}-obs`, 'agent_0', 'obs'), Buffer.from([0x0a, 0xff, 0xff, 0xff])],
      [agentTopic(`${fleetId}-obs`, 'agent_0', 'obs'), Buffer.alloc(70_000, 1)],
    ];
    for (const [topic, payload] of attacks) attacker.publish(topic, payload);
    await new Promise<void>((resolve) => attacker.publish(msgTopic, good({ tick: 1 }), { qos: 1 }, () => resolve()));
    // the last attack (a stale message) is refused once everything before it has been
    const refusals = () => Object.values(fleet.agents[0].snapshot().messages.dropped as Record<string, number>).reduce((a, b) => a + b, 0);
    await until(() => refusals() >= 12 && mqttAgent.snapshot().observationsDropped >= 2, 'every attack is refused');
    const dropped = fleet.agents[0].snapshot().messages.dropped;
    t.match(dropped, { malformed: 2, oversized: 1, wrong_fleet: 1, misaddressed: 2, stale: 2, duplicate: 1, too_early: 1, bad_round: 1, invalid: 1 }, `every refusal has its reason: ${JSON.stringify(dropped)}`);
    t.equal(mqttAgent.snapshot().observationsDropped, 2, 'undecodable and oversized observations are counted');
    t.same(fleet.agents[0].livePeers().sort(), ['agent_1', 'agent_2'], 'a forged OFFLINE on the wrong topic does not kill a peer');
    const after = await fleet.step();
    t.same(after.map((a) => a.tier), ['full', 'full', 'full'], 'and the fleet goes on with full communication');
  });

  t.test(`${kind.name}: NaN, infinite and wrong-size observations get the safe action; the agent abstains and its peers act partially without waiting for it`, async (t) => {
    const broker = await kind.start(t);
    if (!broker) return;
    t.teardown(() => broker.close());
    // a deadline no round could reach within the tick budget: a peer that waited for agent_0 would overrun
    const fleet = await startTestFleet(broker.url, fleetName(kind.name, 'nan'), { roundDeadlineMs: 10_000 });
    t.teardown(() => fleet.close());
    await untilAllLive(fleet);
    const safe = fleet.bundle.manifest.roles[0].safe_action;
    const cases: [string, (v: Float32Array) => Float32Array, string][] = [
      ['NaN', (v) => { v[3] = Number.NaN; return v; }, 'observation_nonfinite'],
      ['infinite', (v) => { v[0] = Number.POSITIVE_INFINITY; return v; }, 'observation_nonfinite'],
      ['short', (v) => v.subarray(0, 10), 'observation_size'],
    ];
    for (const [label, corrupt, reason] of cases) {
      const sentBefore = fleet.agents[0].snapshot().messages.sent;
      const actions = await fleet.step((i, v) => (i === 0 ? corrupt(v) : v));
      t.match(actions[0], { tier: 'safe', action: safe }, `${label}: agent_0 takes the safe action`);
      t.equal(fleet.agents[0].snapshot().messages.sent, sentBefore, `${label}: and sends no message, only its abstention`);
      t.same(actions.slice(1).map((a) => a.tier), ['partial', 'partial'], `${label}: its teammates hear each other and act without it`);
      t.equal(fleet.agents[0].snapshot().safeReasons[reason as 'observation_size'] !== undefined, true, `${label}: counted as ${reason}`);
    }
    t.same(fleet.agents[0].snapshot().safeReasons, { observation_nonfinite: 2, observation_size: 1 });
    t.same(fleet.agents.slice(1).map((a) => a.snapshot().deadlineMisses), [0, 0], 'no teammate ran out a round deadline');
  });
}

t.test('aedes stops and restarts: agents act on the fallback meanwhile and resume full communication after', async (t) => {
  let broker = await startBroker({ port: 0, allowAnonymous: true });
  const port = broker.port;
  t.teardown(() => broker.close());
  const fleet = await startTestFleet(broker.url, fleetName('aedes', 'restart'), { reconnectBaseMs: 50, reconnectMaxMs: 200 });
  t.teardown(() => fleet.close());
  await untilAllLive(fleet);
  t.same((await fleet.step()).map((a) => a.tier), ['full', 'full', 'full']);
  await broker.close();
  await until(() => !fleet.agents.some((a) => a.connected()), 'every agent notices the broker is gone');
  const misses = fleet.agents.map((a) => a.snapshot().deadlineMisses);
  for (let k = 0; k < 3; k++) t.same((await fleet.step()).map((a) => a.tier), ['none', 'none', 'none'], 'no broker: the no-communication graph acts');
  t.same(fleet.agents.map((a) => a.snapshot().deadlineMisses), misses, 'without waiting for round deadlines (none ran out)');
  t.ok(fleet.agents.every((a) => a.snapshot().messages.sent === 2), 'nothing is sent (or queued) while offline');
  broker = await startBroker({ port, allowAnonymous: true });
  await until(() => fleet.agents.every((a) => a.connected()), 'every agent reconnects');
  t.ok(fleet.agents.every((a) => a.connected()), 'every agent reconnected by itself');
  await untilAllLive(fleet);
  t.same((await fleet.step()).map((a) => a.tier), ['full', 'full', 'full'], 'full communication is back');
  for (const a of fleet.agents) {
    const s = a.snapshot();
    t.equal(s.reconnects, 1, `${a.agentId} reconnected once`);
    t.equal(s.messages.dropped.stale ?? 0, 0, `${a.agentId} received no stale message queued during the outage`);
  }
});

t.test('mosquitto unreachable and back (the link cut by a proxy): fallback meanwhile, full communication after', async (t) => {
  if (!(await serviceAvailable(t, 'Mosquitto', 1883))) return;
  const proxy = await new LinkProxy({ host: '127.0.0.1', port: 1883 }).start();
  t.teardown(() => proxy.close());
  const fleet = await startTestFleet(proxy.url, fleetName('mosquitto', 'cut'), { reconnectBaseMs: 50, reconnectMaxMs: 200 });
  t.teardown(() => fleet.close());
  await untilAllLive(fleet);
  t.same((await fleet.step()).map((a) => a.tier), ['full', 'full', 'full']);
  await proxy.cut();
  await until(() => !fleet.agents.some((a) => a.connected()), 'every agent notices the broker is gone');
  t.same((await fleet.step()).map((a) => a.tier), ['none', 'none', 'none']);
  await proxy.restore();
  await until(() => fleet.agents.every((a) => a.connected()), 'every agent reconnects');
  await untilAllLive(fleet);
  t.same((await fleet.step()).map((a) => a.tier), ['full', 'full', 'full']);
});

t.test('reconnection backs off exponentially with jitter', async (t) => {
  // a "broker" that accepts and hangs up at once records when each attempt came; the transport
  // says what delay it chose for each retry. The delays are the transport's to choose (asserted
  // exactly); when a retry actually comes is the scheduler's, so of that only the lower bound is
  // asserted: no retry comes before its delay
  const { createServer } = await import('node:net');
  const arrivals: number[] = [];
  const scheduled: { attempt: number; delayMs: number; at: number }[] = [];
  let seventh: () => void = () => {};
  const sevenAttempts = new Promise<void>((resolve) => { seventh = resolve; });
  const server = createServer((s) => { arrivals.push(performance.now()); s.destroy(); if (arrivals.length === 7) seventh(); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const transport = mqttTransport({ url: `mqtt://127.0.0.1:${port}`, clientId: 'backoff', reconnectBaseMs: 40, reconnectMaxMs: 320, keepaliveS: 10 }, {
    onMessage: () => {}, onConnect: () => {}, onDisconnect: () => {},
    onRetryScheduled: (attempt, delayMs) => scheduled.push({ attempt, delayMs, at: performance.now() }),
  });
  t.teardown(() => transport.destroy());
  t.equal(await transport.start(), false, 'the first attempt reaches no broker');
  await sevenAttempts; // the first connection and six retries
  t.same(scheduled.slice(0, 6).map((s) => s.attempt), [1, 2, 3, 4, 5, 6], 'each retry scheduled once, in order');
  const caps = [40, 80, 160, 320, 320, 320];
  scheduled.slice(0, 6).forEach((s, k) => {
    t.ok(s.delayMs >= caps[k] / 2 && s.delayMs <= caps[k], `retry ${s.attempt} in ${s.delayMs.toFixed(1)} ms: within [${caps[k] / 2}, ${caps[k]}] ms`);
    t.ok(arrivals[k + 1] - s.at >= s.delayMs - 1, `retry ${s.attempt} came ${(arrivals[k + 1] - s.at).toFixed(0)} ms after it was scheduled, not before its delay`);
  });
  t.equal(new Set(scheduled.slice(3, 6).map((s) => s.delayMs)).size, 3, 'capped retries are jittered, not in lockstep');
});

t.test('a runtime process: stdio adapter in and out, garbage survives, SIGTERM announces OFFLINE', async (t) => {
  const { spawn } = await import('node:child_process');
  const { join } = await import('node:path');
  const { REPO_ROOT } = await import('../helpers/paths.js');
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const fleetId = fleetName('aedes', 'process');
  const watcher = await connect(broker.url);
  t.teardown(() => { watcher.end(true); });
  const heartbeats: Buffer[] = [];
  watcher.on('message', (_topic, payload) => heartbeats.push(payload));
  await watcher.subscribeAsync(agentTopic(fleetId, 'agent_0', 'hb'));
  const child = spawn(process.execPath, [join(REPO_ROOT, 'runtime', 'dist', 'cli', 'bin.js'), '--bundle', COMMNET_BUNDLE, '--agent', 'agent_0',
    '--broker', broker.url, '--fleet', fleetId, '--adapter', 'stdio', '--log-level', 'warn'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await until(() => heartbeats.length > 0, 'a heartbeat arrives');
  t.ok(heartbeats.length > 0, 'the agent heartbeats');
  child.stdin.write('this is not json\n');
  child.stdin.write('{"tick": 1, "values": [1, 2]}\n');
  child.stdin.write(`{"tick": 2, "values": ${JSON.stringify(Array.from({ length: 18 }, (_, k) => k / 20))}}\n`);
  await until(() => stdout.split('\n').length >= 3, 'two action lines are written');
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.match(lines[0], { tick: 1, tier: 'safe', action: 0 }, 'a short observation gets the safe action');
  t.match(lines[1], { tick: 2, tier: 'none' }, 'alone in its fleet, the agent acts on the no-communication path');
  t.match(stderr, /not JSON/, 'the garbage line is reported on stderr');
  const before = heartbeats.length;
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exits 0 on SIGTERM');
  const { decodeHeartbeat } = await import('@fleetmind/wire');
  const last = decodeHeartbeat(heartbeats[heartbeats.length - 1]);
  t.ok(heartbeats.length > before && last.online === false, 'and announced itself OFFLINE first');
});

t.test('fleetmind agent refuses bad arguments with one clear line', async (t) => {
  const { runCli } = await import('../helpers/cli.js');
  const r1 = runCli(['agent', '--bundle', COMMNET_BUNDLE, '--agent', 'agent_9', '--broker', 'mqtt://127.0.0.1:1']);
  t.equal(r1.code, 2);
  t.match(r1.stderr, /agent "agent_9" is not in this bundle/);
  const r2 = runCli(['agent', '--bundle', COMMNET_BUNDLE, '--agent', 'agent_0', '--broker', 'http://x']);
  t.equal(r2.code, 2);
  t.match(r2.stderr, /protocol must be mqtt/);
  const r3 = runCli(['agent', '--bundle', COMMNET_BUNDLE, '--agent', 'agent_0', '--broker', 'mqtt://127.0.0.1:1', '--heartbeat-ms', '500', '--peer-timeout-ms', '100']);
  t.equal(r3.code, 2);
  t.match(r3.stderr, /peerTimeoutMs must exceed heartbeatMs/);
  t.notMatch(r1.stderr + r2.stderr + r3.stderr, /\n\s+at /, 'no stack traces');
});

t.test('an observation for the MQTT adapter comes in on obs and the action goes out on act', async (t) => {
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const fleetId = fleetName('aedes', 'mqtt-adapter');
  const agent = await createAgent({ bundle: COMMNET_BUNDLE, agentId: 'agent_1', broker: broker.url, fleet: fleetId, adapter: new MqttAdapter(), logger: pino({ level: 'silent' }) });
  t.teardown(() => agent.stop());
  const world = await connect(broker.url);
  t.teardown(() => { world.end(true); });
  await world.subscribeAsync(agentTopic(fleetId, 'agent_1', 'act'));
  const action = new Promise<Buffer>((resolve) => world.once('message', (_t, p) => resolve(p)));
  world.publish(agentTopic(fleetId, 'agent_1', 'obs'), Buffer.from(encodeObservation({ tick: 5, values: new Float32Array(18).fill(0.1), sentUs: Date.now() * 1000 })));
  const decoded = decodeAction(await action);
  t.match(decoded, { tick: 5, tier: 'none', shielded: false });
  t.ok(decoded.action >= 0 && decoded.action < 5);
});

