// Remote worlds (sim-harness/worlds/remote/, docs/remote-world-protocol.md): a world served by
// another process keeps the world contract over the wire, plays exactly the episodes it plays in
// process however the batch is split among servers, and every way a simulator can fail — gone,
// silent, answering garbage, refusing a request — is a clear error naming where.

import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadWorldPlugin, makeWorld, openWorld, parallelApiCheck, ProtocolError, randomController, RemoteWorld, SimulatorLostError, WorldError,
  type StepResult, type World,
} from '@fleetmind/worlds';
import { REPO_ROOT } from '../helpers/paths.js';
import { serveFleetmindWorld, servePythonRendezvous, startSimulator } from '../helpers/simulators.js';

const DOCKING = join(REPO_ROOT, 'examples', 'worlds', 'docking.js');

/** Plays `steps` random steps on both worlds and compares every result array exactly. */
function playSideBySide(t: Test, local: World, remote: World, steps: number, seed: number): void {
  const first = [local.reset(seed), remote.reset(seed)];
  t.same(first[1].observations.map((o) => [...o]), first[0].observations.map((o) => [...o]), 'reset: the same observations');
  t.same([...remote.state()], [...local.state()], 'reset: the same state');
  const policy = randomController(local, seed);
  const space = local.actionSpace(0);
  const n = local.possibleAgents.length;
  const actions = space.kind === 'discrete' ? new Int32Array(local.numEnvs * n) : new Float32Array(local.numEnvs * n * space.shape[0]);
  let mismatches = 0;
  let ended = 0;
  const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.prototype.every.call(a, (v: number, k: number) => Object.is(v, b[k]));
  for (let step = 0; step < steps; step++) {
    policy.act(first[0].observations, actions);
    const a: StepResult = local.step(actions);
    const b: StepResult = remote.step(actions);
    const fields: [string, ArrayLike<number>, ArrayLike<number>][] = [
      ['rewards', a.rewards, b.rewards], ['active', a.active, b.active], ['terminations', a.terminations, b.terminations],
      ['truncations', a.truncations, b.truncations], ['episodeEnded', a.episodeEnded, b.episodeEnded], ['state', local.state(), remote.state()],
      ...a.observations.map((o, i) => [`observations ${i}`, o, b.observations[i]] as [string, Float32Array, Float32Array]),
      ...Object.keys(a.infos).map((k) => [`infos.${k}`, a.infos[k], b.infos[k]] as [string, Float64Array, Float64Array]),
    ];
    for (let e = 0; e < local.numEnvs; e++) {
      if (!a.episodeEnded[e]) continue;
      ended++;
      const s = local.stateSize;
      fields.push([`final state of env ${e}`, a.finalStates.subarray(e * s, (e + 1) * s), b.finalStates.subarray(e * s, (e + 1) * s)]);
      a.finalObservations.forEach((o, i) => {
        const d = local.observationSpace(i).shape[0];
        fields.push([`final observation ${i} of env ${e}`, o.subarray(e * d, (e + 1) * d), b.finalObservations[i].subarray(e * d, (e + 1) * d)]);
      });
    }
    for (const [name, x, y] of fields) {
      if (!same(x, y)) {
        mismatches++;
        if (mismatches < 4) t.fail(`step ${step + 1}: ${name} differs`);
      }
    }
  }
  t.equal(mismatches, 0, `${steps} steps of ${local.numEnvs} envs: every array identical`);
  t.ok(ended > 0, `${ended} episodes ended and auto-reset on the way (final observations compared)`);
}

t.test('a fleetmind world served over TCP keeps the contract and plays exactly its in-process episodes, on one server or shared among three', async (t) => {
  const servers = await Promise.all([0, 1, 2].map(() => serveFleetmindWorld('simple_spread')));
  t.teardown(() => Promise.all(servers.map((s) => s.kill())));
  const one = `remote:${servers[0].url}`;
  const three = `remote:${servers.map((s) => s.url).join(',')}`;
  parallelApiCheck(() => openWorld(one, { numEnvs: 2 }));
  parallelApiCheck(() => openWorld(three, { numEnvs: 4 }));
  t.pass('parallelApiCheck passes over the wire, with one server and with three');

  for (const address of [one, three]) {
    const remote = openWorld(address, { numEnvs: 7 });
    t.ok(remote instanceof RemoteWorld);
    t.equal(remote.id, 'simple_spread_v3', 'the id the server reports');
    t.same(remote.observationFields(0), makeWorld('simple_spread').observationFields(0), 'observation field names travel in SPEC');
    playSideBySide(t, makeWorld('simple_spread', { numEnvs: 7 }), remote, 60, 11);
    // a snapshot taken remotely restores locally, and the other way round
    const local = makeWorld('simple_spread', { numEnvs: 7 });
    local.reset(3);
    const snap = remote.snapshot(5);
    local.setState(5, snap);
    t.same(local.snapshot(5), snap, `${address === one ? 'one server' : 'three servers'}: env 5's snapshot restores in process`);
    remote.setState(2, local.snapshot(5));
    t.same(remote.snapshot(2), snap, 'and back, into another env (on another server when shared)');
    t.equal(remote.stepsInEpisode(2), snap.steps);
    remote.close();
  }
  t.throws(() => openWorld(three, { numEnvs: 2 }), /2 envs cannot be shared by 3 simulators/, 'fewer envs than servers is refused');
});

t.test('continuous actions and agents that come and go cross the wire exactly (the docking plugin over a unix socket)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-remote-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const server = await serveFleetmindWorld(DOCKING, `unix:${join(dir, 'docking.sock')}`);
  t.teardown(() => server.kill());
  t.equal(server.url, `unix:${join(dir, 'docking.sock')}`);
  await loadWorldPlugin(DOCKING);
  const remote = openWorld(`remote:${server.url}`, { numEnvs: 3, config: { N: 3, stagger: 2 } });
  t.equal(remote.comesAndGoes, true, 'SPEC says the agents come and go');
  t.equal(remote.actionSpace(0).kind, 'continuous');
  playSideBySide(t, makeWorld('docking_v0', { numEnvs: 3, config: { N: 3, stagger: 2 } }), remote, 120, 4);
  t.throws(() => remote.step(new Float32Array(3 * 3 * 2).fill(Number.NaN)), /refused STEP \(refused\).*NaN/, 'a NaN action is refused by the server, with its reason');
  const r = remote.step(new Float32Array(3 * 3 * 2).fill(0.5));
  t.equal(r.rewards.length, 9, 'and the connection is still usable after a refusal');
  t.throws(() => openWorld(`remote:${server.url}`, { numEnvs: 1, config: { N: 0 } }), /refused HELLO.*N/, 'bad world options are refused at HELLO, naming the option');
  remote.close();
});

t.test('the Python reference server (standard library only) keeps the contract over the wire', async (t) => {
  const server = await servePythonRendezvous();
  t.teardown(() => server.kill());
  parallelApiCheck(() => openWorld(`remote:${server.url}`, { numEnvs: 3 }));
  parallelApiCheck(() => openWorld(`remote:${server.url}`, { numEnvs: 2, config: { N: 5 } }));
  t.pass('parallelApiCheck passes against rendezvous_v0 in Python, with 3 and 5 robots');
  const world = openWorld(`remote:${server.url},${server.url}`, { numEnvs: 4 });
  t.same(world.possibleAgents, ['robot_0', 'robot_1', 'robot_2']);
  t.same(world.observationFields(1), ['self.x', 'self.y', 'robot_0.x', 'robot_0.y', 'robot_2.x', 'robot_2.y']);
  const twin = openWorld(`remote:${server.url}`, { numEnvs: 4 });
  const a = world.reset(9).observations.map((o) => [...o]);
  const b = twin.reset(9).observations.map((o) => [...o]);
  t.same(a, b, 'env k is reset from stream k however the batch is split');
  t.throws(() => world.step(new Int32Array(12).fill(7)), /outside Discrete\(5\)/, 'an out-of-range action is refused with the server\'s reason');
  t.throws(() => openWorld(`remote:${server.url}`, { numEnvs: 1, config: { M: 3 } }), /refused HELLO.*unknown option/, 'unknown options are refused');
  world.close();
  twin.close();
});

// a server that answers HELLO and RESET properly and then breaks the protocol in one chosen way
const BROKEN_SERVER = `
import { createServer } from 'node:net';
const mode = process.argv[1];
const frame = (type, body) => { const b = Buffer.alloc(5 + body.length); b.writeUInt32LE(body.length + 1, 0); b[4] = type; body.copy(b, 5); return b; };
const spec = { protocol: 1, id: 'broken_v0', agents: ['a_0', 'a_1'], roles: ['a', 'a'], observation_sizes: [3, 3], action_spaces: [{ kind: 'discrete', n: 2 }, { kind: 'discrete', n: 2 }], state_size: 2, max_cycles: 5, info_keys: [] };
const server = createServer((socket) => {
  let buf = Buffer.alloc(0); let envs = 1;
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32LE(0)) {
      const len = buf.readUInt32LE(0); const type = buf[4]; const body = buf.subarray(5, 4 + len); buf = buf.subarray(4 + len);
      if (type === 1) { envs = JSON.parse(body.toString()).num_envs; socket.write(frame(2, Buffer.from(JSON.stringify(mode === 'bad-spec' ? { ...spec, observation_sizes: [3] } : spec)))); }
      else if (type === 3) socket.write(frame(4, Buffer.concat([Buffer.alloc(envs * 6 * 4), Buffer.alloc(envs * 2 * 4), Buffer.alloc(envs * 2, 1)])));
      else if (type === 5 && mode === 'short') socket.write(frame(6, Buffer.alloc(8 + envs * 2 * 8)));
      else if (type === 5 && mode === 'flags') socket.write(frame(6, Buffer.concat([Buffer.alloc(8 + envs * 2 * 8 + envs * 8 * 4), Buffer.alloc(envs * 2, 7), Buffer.alloc(envs * 5)])));
      else if (type === 5 && mode === 'crash') process.exit(3);
      else if (type === 5 && mode === 'silent') {}
    }
  });
});
server.listen(0, '127.0.0.1', () => console.log('serving broken_v0 on tcp://127.0.0.1:' + server.address().port));
`;

/** Whether fn throws an error for which `expected` holds (printed when it does not). */
function failsWith(fn: () => unknown, expected: (err: Error & { field?: unknown; endpoint?: unknown }) => boolean): boolean {
  try {
    fn();
  } catch (err) {
    if (expected(err as Error)) return true;
    console.error(`unexpected error: ${(err as Error).name}: ${(err as Error).message}`);
    return false;
  }
  console.error('nothing was thrown');
  return false;
}

function brokenServer(mode: string) {
  return startSimulator(process.execPath, ['--input-type=module', '-e', BROKEN_SERVER, mode]);
}

t.test('a simulator that breaks the protocol, dies or stops answering is a clear error naming where', async (t) => {
  const short = await brokenServer('short');
  t.teardown(() => short.kill());
  let world = openWorld(`remote:${short.url}`, { numEnvs: 2 });
  world.reset(0);
  t.ok(failsWith(() => world.step(new Int32Array(4)), (err) => err instanceof ProtocolError && (err as ProtocolError).field === 'observations of a_0'
    && /STEP_RESULT from tcp:\/\/127\.0\.0\.1:\d+ ends inside observations of a_0: it needs 24 bytes at offset 40, the body has 40/.test(err.message)), 'a short STEP_RESULT names the field it ends in');

  const flags = await brokenServer('flags');
  t.teardown(() => flags.kill());
  world = openWorld(`remote:${flags.url}`, { numEnvs: 2 });
  world.reset(0);
  t.ok(failsWith(() => world.step(new Int32Array(4)), (err) => err instanceof ProtocolError && (err as ProtocolError).field === 'active' && /active\[0\] is 7; flags are 0 or 1/.test(err.message)), 'a flag that is not 0 or 1 is refused, naming it');

  const badSpec = await brokenServer('bad-spec');
  t.teardown(() => badSpec.kill());
  t.throws(() => openWorld(`remote:${badSpec.url}`, { numEnvs: 1 }), /SPEC from tcp:\/\/127\.0\.0\.1:\d+: observation_sizes: one entry per agent \(2\), got 1/, 'a SPEC that does not add up names the field');

  const silent = await brokenServer('silent');
  t.teardown(() => silent.kill());
  world = openWorld(`remote:${silent.url}?timeout_ms=300`, { numEnvs: 1 });
  world.reset(0);
  const before = performance.now();
  t.ok(failsWith(() => world.step(new Int32Array(2)), (err) => err instanceof SimulatorLostError && /no answer to STEP within 300 ms \(a slower simulator needs a longer \?timeout_ms=\)/.test(err.message)), 'a silent simulator: the step timeout, an option of the address');
  t.ok(performance.now() - before < 3000, 'and the wait is bounded by it');
  t.throws(() => world.reset(0), SimulatorLostError, 'the world stays broken afterwards (a late answer must not be read as the next one)');

  const crash = await brokenServer('crash');
  world = openWorld(`remote:${crash.url}`, { numEnvs: 1 });
  world.reset(0);
  t.ok(failsWith(() => world.step(new Int32Array(2)), (err) => err instanceof SimulatorLostError && (err as SimulatorLostError).endpoint === crash.url && /is gone: the simulator closed the connection \(during STEP\)/.test(err.message)), 'a simulator that dies mid-run: SimulatorLostError naming it');

  t.ok(failsWith(() => openWorld('remote:tcp://127.0.0.1:1', { numEnvs: 1 }), (err) => err instanceof WorldError && /cannot reach the simulator: connect ECONNREFUSED 127\.0\.0\.1:1/.test(err.message)), 'nobody listening: cannot reach, with the system\'s reason');
  t.throws(() => openWorld('remote:http://x:1'), /"http:\/\/x:1" is not a simulator address; write tcp:\/\/host:port or unix:\/absolute\/path\.sock/);
  t.throws(() => openWorld('remote:tcp://x:1?timeout=3'), /unknown option "timeout"; the one option is timeout_ms/);
  t.throws(() => makeWorld('remote:tcp://127.0.0.1:1'), /needs an in-process world/, 'makeWorld (in-process only) refuses an address');
});
