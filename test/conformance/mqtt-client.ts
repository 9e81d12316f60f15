// A raw MQTT 3.1.1 client for conformance tests: it sends exactly the packets a test builds
// (mqtt-packet) and hands back every packet the server sends, so a test can see what MQTT.js
// would hide (a CONNACK return code, a closed socket, a SUBACK 0x80).

import { connect, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

export class RawClient {
  readonly received: Packet[] = [];
  readonly closed: Promise<void>;
  private waiters: { match: (p: Packet) => boolean; resolve: (p: Packet) => void }[] = [];

  private constructor(private readonly socket: Socket) {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p: Packet) => {
      this.received.push(p);
      const w = this.waiters.find((x) => x.match(p));
      if (w) { this.waiters.splice(this.waiters.indexOf(w), 1); w.resolve(p); }
    });
    socket.on('data', (d) => parser.parse(d));
    socket.on('error', () => {}); // a reset shows as a close, which the tests wait for
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static async open(port: number, host = '127.0.0.1'): Promise<RawClient> {
    const socket = connect({ port, host, noDelay: true });
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    return new RawClient(socket);
  }

  /** bytes as they are: for packets mqtt-packet refuses to build */
  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  send(packet: Record<string, unknown>): void {
    this.socket.write(mqttPacket.generate(packet as unknown as Packet));
  }

  /** the next packet of this kind (or one already received and not yet taken) */
  next<C extends Packet['cmd']>(cmd: C, match: (p: Extract<Packet, { cmd: C }>) => boolean = () => true): Promise<Extract<Packet, { cmd: C }>> {
    const test = (p: Packet) => p.cmd === cmd && match(p as Extract<Packet, { cmd: C }>);
    const already = this.received.find(test);
    if (already) {
      this.received.splice(this.received.indexOf(already), 1);
      return Promise.resolve(already as Extract<Packet, { cmd: C }>);
    }
    return new Promise((resolve) => this.waiters.push({ match: test, resolve: (p) => { this.received.splice(this.received.indexOf(p), 1); resolve(p as Extract<Packet, { cmd: C }>); } }));
  }

  async connect(fields: { clientId: string; clean?: boolean; keepalive?: number; will?: { topic: string; payload: Buffer; qos?: 0 | 1; retain?: boolean } }): Promise<{ returnCode: number; sessionPresent: boolean }> {
    this.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: fields.clean ?? true, keepalive: fields.keepalive ?? 60, clientId: fields.clientId, will: fields.will && { qos: 0, retain: false, ...fields.will } });
    const ack = await this.next('connack');
    return { returnCode: ack.returnCode ?? 0, sessionPresent: ack.sessionPresent };
  }

  async subscribe(filters: { topic: string; qos: 0 | 1 }[], messageId = 1): Promise<number[]> {
    this.send({ cmd: 'subscribe', messageId, subscriptions: filters });
    const ack = await this.next('suback', (p) => p.messageId === messageId);
    return ack.granted as number[];
  }

  publish(topic: string, payload: string | Buffer, options: { qos?: 0 | 1; retain?: boolean; messageId?: number } = {}): void {
    this.send({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: options.qos ?? 0, retain: options.retain ?? false, dup: false, messageId: options.messageId });
  }

  /** the next PUBLISH on this topic */
  message(topic: string): Promise<Extract<Packet, { cmd: 'publish' }>> {
    return this.next('publish', (p) => p.topic === topic);
  }

  disconnect(): void {
    this.send({ cmd: 'disconnect' });
    this.socket.end();
  }

  /** drops the connection without DISCONNECT, as a crash or a lost network would */
  drop(): void {
    this.socket.destroy();
  }
}
