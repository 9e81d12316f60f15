// Message quantization: what a CommNet message costs on the wire and what it loses.
//   f32:  4 bytes per value, exact
//   f16:  2 bytes per value (IEEE half, round to nearest even)
//   int8: 1 byte per value plus one float32 scale per message: q = round(x / s), s = max|x| / 127

/** How a message's values travel; the bundle's manifest names one. */
export const QUANTIZATIONS = ['f32', 'f16', 'int8'] as const;
export type Quantization = (typeof QUANTIZATIONS)[number];

/** Payload bytes per message value (int8 also carries one float32 scale in its own field). */
export function bytesPerValue(q: Quantization): number {
  return q === 'f32' ? 4 : q === 'f16' ? 2 : 1;
}

export interface EncodedMessage {
  payload: Uint8Array;
  /** int8 only: the per-message scale */
  scale: number;
}

export function encodeMessage(values: Float32Array, q: Quantization): EncodedMessage {
  if (q === 'f32') return { payload: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)), scale: 1 };
  if (q === 'f16') {
    const out = new Uint16Array(values.length);
    for (let k = 0; k < values.length; k++) out[k] = toHalf(values[k]);
    return { payload: new Uint8Array(out.buffer), scale: 1 };
  }
  let max = 0;
  for (let k = 0; k < values.length; k++) max = Math.max(max, Math.abs(values[k]));
  const scale = max > 0 ? max / 127 : 1;
  const out = new Int8Array(values.length);
  for (let k = 0; k < values.length; k++) out[k] = Math.max(-127, Math.min(127, Math.round(values[k] / scale)));
  return { payload: new Uint8Array(out.buffer), scale: Math.fround(scale) };
}

/** Decodes into out (length = message size); throws when the payload has the wrong length. */
export function decodeMessage(message: EncodedMessage, q: Quantization, out: Float32Array): void {
  const bytesPer = bytesPerValue(q);
  if (message.payload.length !== out.length * bytesPer) {
    throw new Error(`a ${q} message of ${out.length} values has ${out.length * bytesPer} bytes, got ${message.payload.length}`);
  }
  const view = new DataView(message.payload.buffer, message.payload.byteOffset, message.payload.byteLength);
  for (let k = 0; k < out.length; k++) {
    if (q === 'f32') out[k] = view.getFloat32(k * 4, true);
    else if (q === 'f16') out[k] = fromHalf(view.getUint16(k * 2, true));
    else out[k] = view.getInt8(k) * message.scale;
  }
}

/** The values a peer receives: encode then decode. */
export function quantizeRoundTrip(values: Float32Array, q: Quantization): Float32Array {
  if (q === 'f32') return values;
  const out = new Float32Array(values.length);
  decodeMessage(encodeMessage(values, q), q, out);
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half++; // may carry into the exponent: still correct
  return sign | half;
}

function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
