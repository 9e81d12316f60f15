// `fleetmind fleet` on a broker with users: one user of role fleet carries the process's agents
// and the bridge that publishes their actions; the world user drives them — with a connection per
// agent, and with the agents on one connection and their graph calls batched. A wrong password is
// refused with the reason.

import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startBroker } from '@fleetmind/broker';
import { agentTopic, decodeAction, encodeControl, encodeObservation, fleetTopic } from '@fleetmind/wire';
import { makeWorld } from '@fleetmind/worlds';
import type { FleetRunReport } from '@fleetmind/sim-harness/fleet';
import { CLI_MAIN, REPO_ROOT } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';
import { connect, makeUsers, PASSWORD } from '../helpers/mqtt.js';
import { until } from '../helpers/waiting.js';

const BUNDLE = join(REPO_ROOT, 'models', 'zoo', 'spread-commnet');

function startFleet(url: string, username: string, password: string, extra: string[] = []) {
  const child = spawn(process.execPath, [CLI_MAIN, 'fleet', '--bundle', BUNDLE, '--broker', url, '--fleet', 'lab', '--username', username, '--json', ...extra], {
    cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FLEETMIND_PASSWORD: password },
  });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (/fleet lab ready: 3 agents/.test(stderr)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`fleetmind fleet exited (${code}): ${stderr}`)));
  });
  return { child, exited, ready, output: () => ({ stdout, stderr }) };
}

/** Drives a fleet user's fleet for 5 ticks as the world user; each agent's actions and the fleet's report. */
async function driveFleet(t: Test, extra: string[]): Promise<{ actions: Map<string, { tick: number; action: number }[]>; report: FleetRunReport; clients: string[] }> {
  const users = await makeUsers([{ username: 'lab-host', role: 'fleet', fleet: 'lab' }, { username: 'lab-world', role: 'world', fleet: 'lab' }]);
  const broker = await startBroker({ port: 0, users: users.file });
  t.teardown(async () => { await broker.close(); users.cleanup(); });
  const clients: string[] = [];
  broker.aedes.on('client', (c) => clients.push(c.id));
  const fleet = startFleet(broker.url, 'lab-host', PASSWORD, extra);
  t.teardown(() => { if (fleet.child.exitCode === null) fleet.child.kill('SIGKILL'); });
  await fleet.ready;
  const world = await connect(broker.url, { clientId: 'lab-world', username: 'lab-world', password: PASSWORD });
  t.teardown(() => world.end(true));
  const actions = new Map<string, { tick: number; action: number }[]>(IDS.map((id) => [id, []]));
  await world.subscribeAsync(IDS.map((id) => agentTopic('lab', id, 'act')));
  world.on('message', (topic, payload) => { const a = decodeAction(payload); actions.get(topic.split('/')[3])!.push({ tick: a.tick, action: a.action }); });
  const sim = makeWorld('simple_spread_v3', { numEnvs: 1 });
  const obs = sim.reset(3).observations;
  for (let tick = 1; tick <= 5; tick++) {
    IDS.forEach((id, i) => world.publish(agentTopic('lab', id, 'obs'), Buffer.from(encodeObservation({ tick, values: obs[i], sentUs: Date.now() * 1000 }))));
    await until(() => IDS.every((id) => actions.get(id)!.some((a) => a.tick === tick)), `every agent acts on tick ${tick}`, 5_000);
  }
  // the world user stops the fleet (Control on fm/lab/ctl)
  world.publish(fleetTopic('lab', 'ctl'), Buffer.from(encodeControl({ command: 'stop', argument: '' })));
  t.equal(await fleet.exited, 0, fleet.output().stderr);
  return { actions, report: JSON.parse(fleet.output().stdout) as FleetRunReport, clients };
}

const IDS = ['agent_0', 'agent_1', 'agent_2'];

t.test('a fleet user runs every agent of its fleet and publishes their actions; the world user drives them; on one connection with batched calls the same', async (t) => {
  // rounds that wait for every peer, however loaded the machine: both runs decide on full communication
  const patient = ['--round-deadline-ms', '2000', '--tick-budget-ms', '5000'];
  const each = await driveFleet(t, patient);
  const shared = await driveFleet(t, [...patient, '--connections', 'shared', '--inference', 'batched']);
  for (const [run, { actions, report }] of [['a connection each', each], ['shared and batched', shared]] as const) {
    t.same([report.asked, report.answered, report.unanswered], [15, 15, 0], `${run}: every observation answered`);
    t.same(IDS.map((id) => actions.get(id)!.map((a) => a.tick)), IDS.map(() => [1, 2, 3, 4, 5]), `${run}: each agent's action for each tick, once`);
    t.equal(report.tiers.full, 15, `${run}: the agents heard each other through the broker's ACLs (${JSON.stringify(report.tiers)})`);
  }
  t.same([each.report.connections, each.report.inference, shared.report.connections, shared.report.inference], ['per-agent', 'per-agent', 'shared', 'batched']);
  const agentLinks = (clients: string[]) => clients.filter((id) => id.startsWith('lab-host:') && !/bridge|watch/.test(id));
  t.equal(agentLinks(each.clients).length, 3, `a connection each: ${agentLinks(each.clients).join(', ')}`);
  t.match(agentLinks(shared.clients), [/^lab-host:shared:/], `shared: one connection for the three (${agentLinks(shared.clients).join(', ')})`);
  t.equal(agentLinks(shared.clients).length, 1);
  t.equal(shared.report.messages.sent, each.report.messages.sent, `the same peer messages sent (${each.report.messages.sent})`);
  t.same(IDS.map((id) => shared.actions.get(id)), IDS.map((id) => each.actions.get(id)), 'the same actions, one connection and one graph call a turn for the three');
});

t.test('a wrong password is refused with the reason, and credentials that cannot apply before anything starts', async (t) => {
  const users = await makeUsers([{ username: 'lab-host', role: 'fleet', fleet: 'lab' }]);
  const broker = await startBroker({ port: 0, users: users.file });
  t.teardown(async () => { await broker.close(); users.cleanup(); });
  const wrong = startFleet(broker.url, 'lab-host', 'not-the-password');
  t.teardown(() => { if (wrong.child.exitCode === null) wrong.child.kill('SIGKILL'); });
  await t.rejects(wrong.ready, /refused user "lab-host": Connection refused: Bad username or password/);
  t.not(await wrong.exited, 0);
  t.match(runCli(['fleet', '--bundle', BUNDLE, '--username', 'lab-host', '--password', 'x']).stderr, /--username: the embedded broker has no users/);
  t.match(runCli(['fleet', '--bundle', BUNDLE, '--broker', broker.url, '--username', 'lab-host'], undefined, { FLEETMIND_PASSWORD: '' }).stderr, /--username needs a password/);
  t.match(runCli(['fleet', '--bundle', BUNDLE, '--broker', broker.url, '--password', 'x']).stderr, /--password needs --username/);
});
