// The cost of fleetmind's auth, ACLs, limits and metrics over bare aedes, measured where
// nothing else differs: both brokers in this process, the same client code, interleaved rounds.
// (Across processes, wake-up scheduling on a small shared machine moves round trips by tens
// of µs, which would drown a µs-scale difference.)

import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { startBroker, UsersFile } from '@fleetmind/broker';
import { median } from '@fleetmind/worlds';

export interface Overhead {
  /** median over rounds of each round's p50 round trip, µs */
  aedes_rtt_p50_us: number;
  fleetmind_rtt_p50_us: number;
  /** fleetmind ÷ aedes */
  ratio: number;
  rounds: number;
  samples_per_round: number;
}

const TOPIC = 'fm/bench/a/a0/msg';

async function roundTripP50(client: MqttClient, samples: number): Promise<number> {
  let done: () => void = () => {};
  const onMessage = () => done();
  client.on('message', onMessage);
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => { done = resolve; client.publish(TOPIC, 'x'); });
    times.push(performance.now() - t0);
  }
  client.off('message', onMessage);
  return median(times) * 1000;
}

export async function measureOverhead(rounds = 5, samples = 5000): Promise<Overhead> {
  const dir = mkdtempSync(join(tmpdir(), 'fm-overhead-'));
  const users = await UsersFile.load(join(dir, 'users.json'), { createIfMissing: true });
  await users.add({ username: 'a0', role: 'agent', fleet: 'bench', agent: 'a0' }, 'bench-password', { scryptCost: 1024 });
  const fleetmind = await startBroker({ port: 0, users });
  const aedes = await Aedes.createBroker();
  const server: Server = createServer({ noDelay: true }, (s) => aedes.handle(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const connect = async (url: string, creds: object) => {
    const c = await mqtt.connectAsync(url, { ...creds, reconnectPeriod: 0 });
    (c.stream as unknown as Socket).setNoDelay?.(true);
    await c.subscribeAsync(TOPIC);
    return c;
  };
  const onFleetmind = await connect(fleetmind.url, { clientId: 'a0', username: 'a0', password: 'bench-password' });
  const onAedes = await connect(`mqtt://127.0.0.1:${(server.address() as { port: number }).port}`, { clientId: 'a0' });
  try {
    await roundTripP50(onFleetmind, 1000); // warm up both paths
    await roundTripP50(onAedes, 1000);
    const fm: number[] = [];
    const bare: number[] = [];
    for (let r = 0; r < rounds; r++) {
      bare.push(await roundTripP50(onAedes, samples));
      fm.push(await roundTripP50(onFleetmind, samples));
    }
    return {
      aedes_rtt_p50_us: Number(median(bare).toFixed(1)),
      fleetmind_rtt_p50_us: Number(median(fm).toFixed(1)),
      ratio: Number((median(fm) / median(bare)).toFixed(3)),
      rounds,
      samples_per_round: samples,
    };
  } finally {
    onFleetmind.end(true);
    onAedes.end(true);
    await fleetmind.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  }
}
