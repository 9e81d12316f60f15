// fleetmind.proto, parsed once for every codec of this package (the wire's and the recordings'),
// and the one way they decode: a message that does not parse is a WireError, "malformed".

import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { WireError } from './wire-error.js';

export const protoRoot = protobuf.parse(readFileSync(new URL('../fleetmind.proto', import.meta.url), 'utf8'), { keepCase: true }).root;

/** The decoded message (absent fields read as their defaults from its prototype), or a WireError naming `what`. */
export function decodeMessageOf(type: protobuf.Type, bytes: Uint8Array, what: string): protobuf.Message {
  try {
    return type.decode(bytes);
  } catch (err) {
    throw new WireError('malformed', `${what} does not decode: ${(err as Error).message}`);
  }
}
