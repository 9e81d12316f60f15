// The edge runtime: ONNX Runtime call, a 10-agent one-round CommNet fleet's tick over the
// fleetmind broker, one agent process's memory, one peer message's bytes. Same as
// `fleetmind bench runtime --json`. Run: npm run bench:runtime
import { fileURLToPath } from 'node:url';
import { benchRuntime } from '@fleetmind/sim-harness/bench';

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const report = await benchRuntime({ bundle: root('bench/bundles/spread10-commnet'), mlpBundle: root('models/zoo/spread-mlp') });
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
