// The stdio adapter: JSON lines, for a robot process that pipes.
//   in:  {"tick": 7, "values": [0.1, -0.3, …]}         (optional "sent_us", "episode")
// "values", as in the in-process adapter and the wire's Observation; "obs", its name before
// version 0.1.0's adapters were unified, is still read.
//        {"standby": true}   the robot is not in the episode now (peers stop waiting; its next observation ends it)
//   out: {"tick": 7, "action": 2, "tier": "full", "shielded": false}
//        with continuous actions: {"tick": 7, "action": 0, "vector": [0.4, 0, 1], "tier": …}
// A line that is not such an object is reported on stderr by the agent's log and counted; the
// agent keeps reading.

import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { ActionOut, Adapter, AdapterContext } from './adapter.js';

export class StdioAdapter implements Adapter {
  readonly name = 'stdio';
  private lines: Interface | null = null;
  private markEnded: () => void = () => {};
  /** resolves when the input ends (the robot process closed the pipe) */
  readonly ended = new Promise<void>((resolve) => { this.markEnded = resolve; });

  constructor(private readonly input: Readable = process.stdin, private readonly output: Writable = process.stdout) {}

  start(context: AdapterContext): void {
    this.lines = createInterface({ input: this.input, crlfDelay: Infinity });
    this.lines.once('close', () => this.markEnded());
    let lineNo = 0;
    this.lines.on('line', (line) => {
      lineNo++;
      if (line.trim() === '') return;
      const problem = (detail: string) => context.reject(`stdin line ${lineNo}: ${detail}`);
      let data: unknown;
      try {
        data = JSON.parse(line);
      } catch {
        return problem('not JSON');
      }
      if (!data || typeof data !== 'object') return problem('not an object');
      const { tick, values: given, obs, sent_us: sentUs, episode, standby } = data as Record<string, unknown>;
      if (standby === true) return context.standby();
      if (!Number.isInteger(tick) || (tick as number) < 0) return problem('"tick" must be a non-negative integer');
      const observation = given ?? obs;
      if (!Array.isArray(observation)) return problem('"values" must be an array of numbers');
      // non-numbers become NaN: the agent answers such an observation with the safe action
      const values = Float32Array.from(observation, (v) => (typeof v === 'number' ? v : Number.NaN));
      if (episode !== undefined && !(Number.isInteger(episode) && (episode as number) >= 0)) return problem('"episode" must be a non-negative integer');
      context.observe({ tick: tick as number, values, sentUs: typeof sentUs === 'number' ? sentUs : undefined, ...(episode ? { episode: episode as number } : {}) });
    });
  }

  apply(a: ActionOut): void {
    this.output.write(`${JSON.stringify({ tick: a.tick, action: a.action, ...(a.vector ? { vector: Array.from(a.vector) } : {}), tier: a.tier, shielded: a.shielded })}\n`);
  }

  async close(): Promise<void> {
    this.lines?.close();
    this.lines = null;
  }
}
