// `fleetmind fleet` on a broker with users: one user of role fleet carries the process's agents
// and the bridge that publishes their actions; the world user drives them. A wrong password is
// refused with the reason.

import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startBroker } from '@fleetmind/broker';
import { agentTopic, decodeAction, encodeControl, encodeObservation, fleetTopic } from '@fleetmind/wire';
import { makeWorld } from '@fleetmind/worlds';
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

t.test('a fleet user runs every agent of its fleet and publishes their actions; the world user drives them', async (t) => {
  const users = await makeUsers([{ username: 'lab-host', role: 'fleet', fleet: 'lab' }, { username: 'lab-world', role: 'world', fleet: 'lab' }]);
  const broker = await startBroker({ port: 0, users: users.file });
  t.teardown(async () => { await broker.close(); users.cleanup(); });
  const fleet = startFleet(broker.url, 'lab-host', PASSWORD);
  t.teardown(() => { if (fleet.child.exitCode === null) fleet.child.kill('SIGKILL'); });
  await fleet.ready;
  const world = await connect(broker.url, { clientId: 'lab-world', username: 'lab-world', password: PASSWORD });
  t.teardown(() => world.end(true));
  const ids = ['agent_0', 'agent_1', 'agent_2'];
  const actions = new Map<string, number[]>(ids.map((id) => [id, []]));
  await world.subscribeAsync(ids.map((id) => agentTopic('lab', id, 'act')));
  world.on('message', (topic, payload) => actions.get(topic.split('/')[3])!.push(decodeAction(payload).tick));
  const sim = makeWorld('simple_spread_v3', { numEnvs: 1 });
  const obs = sim.reset(3).observations;
  for (let tick = 1; tick <= 5; tick++) {
    ids.forEach((id, i) => world.publish(agentTopic('lab', id, 'obs'), Buffer.from(encodeObservation({ tick, values: obs[i], sentUs: Date.now() * 1000 }))));
    await until(() => ids.every((id) => actions.get(id)!.includes(tick)), `every agent acts on tick ${tick}`, 5_000);
  }
  // the world user stops the fleet (Control on fm/lab/ctl)
  world.publish(fleetTopic('lab', 'ctl'), Buffer.from(encodeControl({ command: 'stop', argument: '' })));
  t.equal(await fleet.exited, 0, fleet.output().stderr);
  const report = JSON.parse(fleet.output().stdout);
  t.same([report.asked, report.answered, report.unanswered], [15, 15, 0], 'every observation answered');
  t.same(ids.map((id) => actions.get(id)), ids.map(() => [1, 2, 3, 4, 5]), 'each agent\'s action for each tick, once');
  t.ok(report.tiers.full > 0, `the agents heard each other through the broker's ACLs (${JSON.stringify(report.tiers)})`);
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
