// Why a message from the wire (or a recording) was refused: the reason a long-running agent
// counts, never anything that could take it down.

export type WireRejection = 'oversized' | 'malformed' | 'invalid';

export class WireError extends Error {
  readonly code = 'FM_ERR_WIRE';
  constructor(readonly reason: WireRejection, message: string) {
    super(message);
  }
}
