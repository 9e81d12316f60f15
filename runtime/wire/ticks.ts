// Ticks on the wire are uint32. A lockstep world counts them from 0; a free-running agent (--hz)
// derives them from the wall clock, the period boundary nearest now, which passes 2^32 (at 10 Hz that
// happened in 1983), so its ticks are taken modulo 2^32 and compared by serial-number
// arithmetic (RFC 1982): the signed distance between two ticks, correct across the wrap while
// they are less than 2^31 apart.

export const TICK_MODULUS = 2 ** 32;

/**
 * The wall-clock tick of a period, as it travels: the boundary nearest nowMs, round(nowMs /
 * periodMs) mod 2^32. Agents' clocks fire on the boundaries, each a little early or late (timers
 * drift, event loops are busy, clocks are stepped); rounding, unlike floor, names the boundary
 * each meant, so agents that fire on the same one agree on its tick and their rounds meet.
 */
export function wallClockTick(nowMs: number, periodMs: number): number {
  return Math.round(nowMs / periodMs) % TICK_MODULUS;
}

/** When a clock that fired at nowMs fires next: the boundary after the one nearest nowMs. */
export function msToNextTick(nowMs: number, periodMs: number): number {
  return (Math.round(nowMs / periodMs) + 1) * periodMs - nowMs;
}

/** a − b for ticks modulo 2^32: positive when a comes after b. */
export function tickDistance(a: number, b: number): number {
  return ((a - b) % TICK_MODULUS + TICK_MODULUS + TICK_MODULUS / 2) % TICK_MODULUS - TICK_MODULUS / 2;
}
