// A minimal MQTT 3.1.1 client (CONNECT, SUBSCRIBE, QoS 0 PUBLISH) for driving hundreds of
// connections from one process. mqtt.js's per-message cost made the load generator, not the
// broker, the bottleneck of the 500-agent fleet measurement on a 2-core machine.

import { connect as tcpConnect, type Socket } from 'node:net';
import type { Credentials } from './targets.js';

function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

function utf8(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

function packet(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, ...remainingLength(body.length)]), body]);
}

export class LeanClient {
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: ((type: number) => void) | null = null;
  onMessage: (topic: string, payload: Buffer) => void = () => {};

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => {});
  }

  static async connect(port: number, creds: Credentials): Promise<LeanClient> {
    const socket = tcpConnect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    const client = new LeanClient(socket);
    let flags = 0x02; // clean session
    const payload = [utf8(creds.clientId)];
    if (creds.username !== undefined) { flags |= 0x80; payload.push(utf8(creds.username)); }
    if (creds.password !== undefined) { flags |= 0x40; payload.push(utf8(creds.password)); }
    const header = Buffer.concat([utf8('MQTT'), Buffer.from([4, flags, 0, 60])]);
    await client.request(packet(0x10, Buffer.concat([header, ...payload])), 2);
    return client;
  }

  async subscribe(topics: string[]): Promise<void> {
    const body = Buffer.concat([Buffer.from([0, 1]), ...topics.map((t) => Buffer.concat([utf8(t), Buffer.from([0])]))]);
    await this.request(packet(0x82, body), 9);
  }

  publish(topic: string, payload: Buffer): void {
    this.socket.write(packet(0x30, Buffer.concat([utf8(topic), payload])));
  }

  end(): void {
    this.socket.end(Buffer.from([0xe0, 0]));
  }

  private request(bytes: Buffer, replyType: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply from the broker')), 10_000);
      this.waiting = (type) => {
        if (type !== replyType) return;
        clearTimeout(timer);
        this.waiting = null;
        resolve();
      };
      this.socket.write(bytes);
    });
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (this.buffer.length < 2) return;
      let length = 0;
      let multiplier = 1;
      let i = 1;
      for (;;) {
        if (i >= this.buffer.length) return;
        const byte = this.buffer[i++];
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if (!(byte & 0x80)) break;
      }
      if (this.buffer.length < i + length) return;
      const type = this.buffer[0] >> 4;
      const body = this.buffer.subarray(i, i + length);
      this.buffer = this.buffer.subarray(i + length);
      if (type === 3) {
        const topicLength = body.readUInt16BE(0);
        // subscriptions are QoS 0, so deliveries carry no packet id
        this.onMessage(body.toString('utf8', 2, 2 + topicLength), body.subarray(2 + topicLength));
      } else {
        this.waiting?.(type);
      }
    }
  }
}
