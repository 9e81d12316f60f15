// Ticks on the wire are uint32. A lockstep world counts them from 0; a free-running agent (--hz)
// derives them from the wall clock, floor(now / period), which passes 2^32 (at 10 Hz that
// happened in 1983), so its ticks are taken modulo 2^32 and compared by serial-number
// arithmetic (RFC 1982): the signed distance between two ticks, correct across the wrap while
// they are less than 2^31 apart.

export const TICK_MODULUS = 2 ** 32;

/** The wall-clock tick of a period, as it travels: floor(nowMs / periodMs) mod 2^32. */
export function wallClockTick(nowMs: number, periodMs: number): number {
  return Math.floor(nowMs / periodMs) % TICK_MODULUS;
}

/** a − b for ticks modulo 2^32: positive when a comes after b. */
export function tickDistance(a: number, b: number): number {
  return ((a - b) % TICK_MODULUS + TICK_MODULUS + TICK_MODULUS / 2) % TICK_MODULUS - TICK_MODULUS / 2;
}
