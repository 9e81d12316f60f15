// Target networks for the off-policy learners: a slow copy of a network that the TD targets are
// computed with, so a network does not chase its own moving estimate. DQN/QMIX copy it
// outright every so many updates; MADDPG moves it a fraction τ of the way each update.

import { tf } from '../backend.js';

/** target ← source */
export function hardUpdate(target: readonly tf.Variable[], source: readonly tf.Variable[]): void {
  polyakUpdate(target, source, 1);
}

/** target ← τ·source + (1 − τ)·target */
export function polyakUpdate(target: readonly tf.Variable[], source: readonly tf.Variable[], tau: number): void {
  if (target.length !== source.length) throw new Error(`target has ${target.length} variables, source ${source.length}`);
  tf.tidy(() => {
    target.forEach((t, k) => {
      if (t.size !== source[k].size) throw new Error(`target variable ${k} has ${t.size} values, source ${source[k].size}`);
      t.assign(tau === 1 ? source[k] : tf.add(tf.mul(source[k], tau), tf.mul(t, 1 - tau)));
    });
  });
}
