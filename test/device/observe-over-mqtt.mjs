// Drives an agent started by another command (an arm64 agent under qemu, say) over MQTT: waits
// for its heartbeat, sends it observations from simple_spread starts, and checks every action
// against the same bundle run here by ONNX Runtime. Prints one line per observation and a verdict;
// exits 1 on a mismatch or a missing answer.
//   node test/device/observe-over-mqtt.mjs <broker> <fleet> <bundle> -- <agent command…>
import { spawn } from 'node:child_process';
import mqtt from 'mqtt';
import { createAgent, InProcessAdapter } from '@fleetmind/runtime';
import { agentTopic, decodeAction, decodeHeartbeat, encodeObservation } from '@fleetmind/wire';
import { makeWorld } from '@fleetmind/worlds';

const [broker, fleet, bundle, dashdash, ...command] = process.argv.slice(2);
if (dashdash !== '--' || command.length === 0) throw new Error('usage: observe-over-mqtt.mjs <broker> <fleet> <bundle> -- <agent command…>');
const AGENT = 'agent_0';
const TICKS = 20;

// the reference: the same bundle, same agent, in this process
const reference = new Map();
const local = new InProcessAdapter((a) => reference.set(a.tick, a.action));
const here = await createAgent({ bundle, agentId: AGENT, broker: null, adapter: local, logger: (await import('pino')).pino({ level: 'silent' }) });
await here.start();
const world = makeWorld('simple_spread_v3', { numEnvs: 1, autoReset: true });
const observations = [];
for (let tick = 1; tick <= TICKS; tick++) {
  // a fresh start each tick (seeds 100, 101, …): observations, and so actions, that differ
  const values = world.reset(99 + tick).observations[0].slice();
  observations.push(values);
  local.observe({ tick, values });
  // one at a time: a lockstep agent busy with a tick keeps only the newest observation waiting
  while (!reference.has(tick)) await new Promise((r) => setTimeout(r, 1));
}
await here.stop();

const client = mqtt.connect(broker, { clientId: `observer-${process.pid}` });
await new Promise((resolve, reject) => { client.once('connect', resolve); client.once('error', reject); });
const online = new Promise((resolve) => client.on('message', (topic, payload) => {
  if (topic.endsWith('/hb') && decodeHeartbeat(payload).online) resolve();
}));
const answers = new Map();
client.on('message', (topic, payload) => {
  if (!topic.endsWith('/act')) return;
  const a = decodeAction(payload);
  answers.get(a.tick)?.(a);
});
await client.subscribeAsync([agentTopic(fleet, AGENT, 'hb'), agentTopic(fleet, AGENT, 'act')]);

const started = performance.now();
const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
await Promise.race([online, exited.then((c) => { throw new Error(`the agent exited (${c}) before it came online`); })]);
console.log(`agent online after ${((performance.now() - started) / 1000).toFixed(1)} s`);

let mismatches = 0;
const latencies = [];
for (let tick = 1; tick <= TICKS; tick++) {
  const t0 = performance.now();
  const answered = new Promise((resolve) => answers.set(tick, resolve));
  client.publish(agentTopic(fleet, AGENT, 'obs'), Buffer.from(encodeObservation({ tick, values: observations[tick - 1], sentUs: Date.now() * 1000 })));
  const a = await Promise.race([answered, new Promise((r) => setTimeout(() => r(null), 30_000))]);
  if (!a) { console.log(`tick ${tick}: no answer within 30 s`); mismatches++; continue; }
  const ms = performance.now() - t0;
  latencies.push(ms);
  const same = a.action === reference.get(tick);
  if (!same) mismatches++;
  console.log(`tick ${String(tick).padStart(2)}: action ${a.action} (tier ${a.tier}), here ${reference.get(tick)} ${same ? 'same' : 'DIFFERENT'}, ${ms.toFixed(1)} ms`);
}
latencies.sort((x, y) => x - y);
console.log(`${TICKS - mismatches}/${TICKS} actions equal to this machine's; median round trip ${latencies[latencies.length >> 1]?.toFixed(1)} ms under emulation`);
child.kill('SIGTERM');
console.log(`agent stopped: ${await exited}`);
await client.endAsync();
process.exit(mismatches === 0 ? 0 : 1);
