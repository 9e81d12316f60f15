import mqtt from 'mqtt';
import { connect as tcpConnect } from 'node:net';
import { startTarget } from './bench/dist/broker/targets.js';
import { Rng } from '@fleetmind/worlds';
import { connectPacket, fuzzFrame } from './bench/dist/fuzz/mqtt-mutations.js';
const t = await startTarget('fleetmind', 18);
const port = Number(new URL(t.url.replace('mqtt:', 'http:')).port);
const A = t.agent(16), B = t.agent(17);
const a = await mqtt.connectAsync(t.url, { ...A, reconnectPeriod: 0 });
const b = await mqtt.connectAsync(t.url, { ...B, reconnectPeriod: 0 });
await b.subscribeAsync(`fm/bench/a/${A.username}/msg`); b.on('message', (_t, p) => b.publish(`fm/bench/a/${B.username}/msg`, p));
await a.subscribeAsync(`fm/bench/a/${B.username}/msg`);
let echoes = 0; a.on('message', () => echoes++);
const rng = new Rng(1, 2);
const counts = {};
const last = [];
for (let k = 0; k < 300; k++) {
  await new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1'); s.on('error', () => {}); s.on('close', resolve);
    const u = t.agent(k % 16);
    s.on('connect', () => { s.write(connectPacket(rng, { ...u, clientId: u.clientId + ':f' + k })); last.length = 0; for (let n = 0; n < 20; n++) { const f = fuzzFrame(rng); last.push(f.mutation); counts[f.mutation] = (counts[f.mutation] ?? 0) + 1; s.write(f.frame); } setTimeout(() => s.destroy(), 5); });
  });
  const before = echoes; a.publish(`fm/bench/a/${A.username}/msg`, 'x'); await new Promise(r => setTimeout(r, 40));
  if (echoes === before) { console.log('echo lost after fuzz connection', k, last.join(',')); break; }
}
console.log('echoes', echoes, a.connected, b.connected);
await t.stop(); process.exit(0);
