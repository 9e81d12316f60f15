// A standard normal draw from a seeded stream: the Gaussian policy's and the gamma sampler's noise.

import type { Rng } from '@fleetmind/worlds';

/** A standard normal draw (Box–Muller; one of the pair, so each draw takes two uniforms). */
export function standardNormal(rng: Rng): number {
  const u = 1 - rng.next(); // (0, 1]: log(0) never happens
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}
