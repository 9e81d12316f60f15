import mqtt from 'mqtt';
import { connect as tcpConnect } from 'node:net';
import { startBroker } from '@fleetmind/broker';
import { Rng } from '@fleetmind/worlds';
import { connectPacket, fuzzFrame } from './bench/dist/fuzz/mqtt-mutations.js';
const only = process.argv[2];
const broker = await startBroker({ port: 0, allowAnonymous: true, connectionBurst: 5000 });
const a = await mqtt.connectAsync(broker.url, { clientId: 'ha', reconnectPeriod: 0 });
const b = await mqtt.connectAsync(broker.url, { clientId: 'hb', reconnectPeriod: 0 });
await b.subscribeAsync('h/ping'); b.on('message', (_t, p) => b.publish('h/pong', p));
await a.subscribeAsync('h/pong');
let echoes = 0; a.on('message', () => echoes++);
const rng = new Rng(1, 2);
const counts = {};
for (let k = 0; k < 300; k++) {
  await new Promise((resolve) => {
    const s = tcpConnect(broker.port, '127.0.0.1'); s.on('error', () => {}); s.on('close', resolve);
    s.on('connect', () => { s.write(connectPacket(rng, { clientId: 'f' + k })); for (let n = 0; n < 20; n++) { let f; do { f = fuzzFrame(rng); } while (only && f.mutation !== only); counts[f.mutation] = (counts[f.mutation] ?? 0) + 1; s.write(f.frame); } setTimeout(() => s.destroy(), 5); });
  });
  const before = echoes; a.publish('h/ping', 'x'); await new Promise(r => setTimeout(r, 30));
  if (echoes === before) { console.log('echo lost after fuzz connection', k, JSON.stringify(counts)); const shed = await broker.metrics.shed.get(); console.log('shed', JSON.stringify(shed.values)); break; }
}
console.log('echoes', echoes);
await broker.close(); process.exit(0);
