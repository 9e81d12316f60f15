import t from 'tap';
import { decodeMessage, encodeMessage, quantizeRoundTrip } from '@fleetmind/wire';

t.test('f32 is exact; f16 rounds to half precision; int8 keeps each value within half a step of its scale', (t) => {
  const values = Float32Array.from([0.5, -0.25, 0.999, -1, 0.001, 0, 0.3333, 65504]);
  t.same(Array.from(quantizeRoundTrip(values, 'f32')), Array.from(values));
  const half = quantizeRoundTrip(values, 'f16');
  t.same(Array.from(half.subarray(0, 2)), [0.5, -0.25], 'representable values are exact');
  t.equal(half[7], 65504, 'the largest half');
  for (let k = 0; k < values.length; k++) t.ok(Math.abs(half[k] - values[k]) <= Math.abs(values[k]) * 2 ** -11 + 2 ** -25, `f16 ${values[k]} → ${half[k]}`);
  const small = values.subarray(0, 7);
  const q = encodeMessage(small, 'int8');
  t.equal(q.payload.length, 7, 'one byte per value');
  const back = new Float32Array(7);
  decodeMessage(q, 'int8', back);
  for (let k = 0; k < 7; k++) t.ok(Math.abs(back[k] - small[k]) <= q.scale / 2 + 1e-7, `int8 ${small[k]} → ${back[k]}`);
  t.equal(encodeMessage(new Float32Array(64), 'int8').payload.length + 4, 68, 'hidden 64 in int8: 64 bytes + a float32 scale');
  t.throws(() => decodeMessage({ payload: new Uint8Array(5), scale: 1 }, 'f16', new Float32Array(4)), /has 8 bytes, got 5/);
  t.end();
});
