// fleetmind broker vs bare aedes vs Mosquitto: round trip, fan-out, 500 agents at 10 Hz on
// 4-neighbour topics. Same as `fleetmind bench broker --json`. Run: npm run bench:broker
import { benchBroker } from '@fleetmind/broker/bench';

process.stdout.write(`${JSON.stringify(await benchBroker(), null, 2)}\n`);
