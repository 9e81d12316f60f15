// A network's weights by name: tf.Variables created with a scaled Gaussian (Box–Muller on the
// run's random stream), read out and put back as plain number arrays — the checkpoint's
// `tensors` record. The CommNet and the GRU keep their weights this way.

import { tf } from '../backend.js';
import type { Rng } from '@fleetmind/worlds';

export class NamedParameters {
  readonly variables: tf.Variable[] = [];
  private readonly byName = new Map<string, tf.Variable>();

  /** what: the network's name in error messages */
  constructor(private readonly rng: Rng, private readonly what: string) {}

  /** A variable of this shape, N(0, scale²) (scale 0: zeros, drawing nothing from the stream). */
  add(name: string, shape: number[], scale: number): void {
    const size = shape.reduce((x, y) => x * y, 1);
    const values = Float32Array.from({ length: size }, () => (scale === 0 ? 0 : this.gaussian() * scale));
    const v = tf.variable(tf.tensor(values, shape));
    this.byName.set(name, v);
    this.variables.push(v);
  }

  get(name: string): tf.Variable {
    const v = this.byName.get(name);
    if (!v) throw new Error(`${this.what} has no weights "${name}"`);
    return v;
  }

  values(): Record<string, number[]> {
    const tensors: Record<string, number[]> = {};
    for (const [name, v] of this.byName) tensors[name] = Array.from(v.dataSync());
    return tensors;
  }

  assign(tensors: Record<string, number[]>): void {
    for (const [name, v] of this.byName) {
      const values = tensors[name];
      if (!values || values.length !== v.size) throw new Error(`${this.what} weights: "${name}" is missing or has the wrong size`);
      v.assign(tf.tensor(values, v.shape));
    }
  }

  dispose(): void {
    this.variables.forEach((v) => v.dispose());
  }

  private gaussian(): number {
    const u = 1 - this.rng.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.rng.next());
  }
}
