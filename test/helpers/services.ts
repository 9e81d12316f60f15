import { connect } from 'node:net';
import type { Test } from 'tap';

/**
 * Whether a machine service (Mosquitto on 1883, Redis on 6379) answers on loopback. Tests that
 * need one call this: under CI=true a missing service is a failure, elsewhere a skip that says so.
 */
export async function serviceAvailable(t: Test, name: string, port: number): Promise<boolean> {
  const up = await new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => { s.destroy(); resolve(false); });
  });
  if (up) return true;
  if (process.env.CI === 'true') t.fail(`${name} is not running on 127.0.0.1:${port}; CI needs it`);
  else t.skip(`${name} is not running on 127.0.0.1:${port}; start it to run this test`, () => {});
  return false;
}
