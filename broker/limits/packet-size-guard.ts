// Follows MQTT fixed headers on the bytes a client sends and reports the first packet whose
// declared size exceeds the limit, before that packet is buffered — aedes has no such limit.
// Fixed header: 1 byte type/flags, then "remaining length" as 1–4 bytes of 7-bit groups [MQTT-2.2.3].

export class PacketSizeGuard {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private remaining = 0;

  constructor(private readonly maxPacketSize: number) {}

  /** Feeds a chunk; returns the offending packet's declared size, or -1 while all is well. */
  feed(chunk: Buffer): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.state = 'type';
        continue;
      }
      const byte = chunk[i++];
      if (this.state === 'type') {
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      if (byte & 0x80) {
        if (this.multiplier >= 128 ** 4) return Infinity; // malformed: more than 4 length bytes
        continue;
      }
      const total = 1 + Math.log2(this.multiplier) / 7 + this.length;
      if (total > this.maxPacketSize) return total;
      this.remaining = this.length;
      this.state = this.remaining === 0 ? 'type' : 'body';
    }
    return -1;
  }
}
