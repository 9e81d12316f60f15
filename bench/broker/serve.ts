// Child-process entry of `fleetmind bench broker`: serves one broker under test on a free
// loopback port and prints "PORT <n>". argv: aedes | fleetmind [<users file> | -] [<port>]
// ("-" or nothing: anonymous; no port: a free one)
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import { startBroker, UsersFile } from '@fleetmind/broker';

const [kind, usersArg, portArg] = process.argv.slice(2);
const usersPath = usersArg && usersArg !== '-' ? usersArg : undefined;
const port = Number(portArg ?? 0);
if (kind === 'aedes') {
  // bare aedes with its defaults, TCP_NODELAY on for a fair comparison
  const aedes = await Aedes.createBroker();
  const server = createServer({ noDelay: true }, (socket) => aedes.handle(socket));
  server.listen(port, '127.0.0.1', () => process.stdout.write(`PORT ${(server.address() as { port: number }).port}\n`));
} else if (kind === 'fleetmind') {
  const users = usersPath ? await UsersFile.load(usersPath) : undefined;
  const broker = await startBroker({ port, users, allowAnonymous: !users, connectionBurst: 5_000 });
  process.stdout.write(`PORT ${broker.port}\n`);
} else {
  process.stderr.write(`unknown broker kind ${kind}\n`);
  process.exit(2);
}

// exit cleanly (flushing profilers and coverage) when the bench is done with us
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
