// Adam (Kingma & Ba 2015) over a fixed list of variables, with its state in plain numbers so a
// checkpoint can carry it and a resumed run takes exactly the steps an uninterrupted one would.
// (tfjs's AdamOptimizer accumulates β^t by repeated float32 multiplication and rebuilds it with
// a power on restore, which differs in the last bits.) Same update as tfjs's:
//   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  θ ← θ − lr · m̂ / (√v̂ + ε),  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)

import { tf } from '../backend.js';
import type { AdamState } from '../runs/checkpoint-schema.js';

export type { AdamState };

export class Adam {
  learningRate: number;
  private step = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(
    private readonly variables: readonly tf.Variable[],
    learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {
    this.learningRate = learningRate;
    this.m = variables.map((x) => tf.variable(tf.zerosLike(x), false));
    this.v = variables.map((x) => tf.variable(tf.zerosLike(x), false));
  }

  /** grads: by variable name, as tf.variableGrads returns them */
  applyGradients(grads: tf.NamedTensorMap): void {
    this.step++;
    const correction1 = 1 - this.beta1 ** this.step;
    const correction2 = 1 - this.beta2 ** this.step;
    tf.tidy(() => {
      this.variables.forEach((x, i) => {
        const g = grads[x.name];
        if (!g) throw new Error(`Adam: no gradient for ${x.name}`);
        const m = tf.add(tf.mul(this.m[i], this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(this.v[i], this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        const update = tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), this.epsilon));
        x.assign(tf.sub(x, tf.mul(update, this.learningRate)));
      });
    });
  }

  state(): AdamState {
    return { step: this.step, m: this.m.map((t) => Array.from(t.dataSync())), v: this.v.map((t) => Array.from(t.dataSync())) };
  }

  setState(state: AdamState): void {
    if (state.m.length !== this.m.length || state.v.length !== this.v.length) {
      throw new Error(`Adam state for ${state.m.length} variables, this optimizer has ${this.m.length}`);
    }
    state.m.forEach((values, i) => this.assign(this.m[i], values));
    state.v.forEach((values, i) => this.assign(this.v[i], values));
    this.step = state.step;
  }

  dispose(): void {
    [...this.m, ...this.v].forEach((t) => t.dispose());
  }

  private assign(target: tf.Variable, values: number[]): void {
    if (values.length !== target.size) throw new Error(`Adam state: ${values.length} values for a variable of ${target.size}`);
    target.assign(tf.tensor(values, target.shape));
  }
}
