// Child of bench/broker-overload.ts: bare aedes with its defaults, or the fleetmind broker.
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import { startBroker } from '@fleetmind/broker';

if (process.argv[2] === 'aedes') {
  const aedes = await Aedes.createBroker();
  const server = createServer({ noDelay: true }, (s) => aedes.handle(s));
  server.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${(server.address() as { port: number }).port}\n`));
} else {
  const broker = await startBroker({ port: 0, allowAnonymous: true, connectionBurst: 5_000 });
  process.stdout.write(`PORT ${broker.port}\n`);
}
