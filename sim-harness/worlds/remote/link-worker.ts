// The remote world's sockets, on a worker thread. The World contract is synchronous (a trainer
// calls step() and reads the result), and Node's sockets are not: the main thread posts a request
// and sleeps on a shared flag (Atomics.wait); this thread writes one frame to each simulator,
// collects one answer from each, hands them back and wakes it. Every simulator works on its part
// of the batch at the same time.

import { connect, type Socket } from 'node:net';
import { workerData, type MessagePort } from 'node:worker_threads';
import { FrameReader, type Frame } from './protocol.js';
import type { Endpoint } from './endpoints.js';

export interface LinkRequest {
  /** one frame per simulator (null: nothing to that one, and no answer expected) */
  frames: (Uint8Array | null)[];
  /** connect first (the first request) */
  connect?: boolean;
}

export type LinkResponse =
  | { ok: true; frames: (Frame | null)[] }
  | { ok: false; endpoint: string; message: string; lost: boolean };

interface Data { endpoints: Endpoint[]; signal: SharedArrayBuffer; port: MessagePort }

const { endpoints, signal, port } = workerData as Data;
const flag = new Int32Array(signal);

class Link {
  socket: Socket | null = null;
  readonly reader: FrameReader;
  private waiting: { resolve: (f: Frame) => void; reject: (e: Error) => void } | null = null;
  private queued: Frame[] = [];
  private failure: Error | null = null;

  constructor(readonly endpoint: Endpoint) {
    this.reader = new FrameReader(endpoint.url);
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = this.endpoint.kind === 'tcp' ? connect({ host: this.endpoint.host, port: this.endpoint.port }) : connect({ path: this.endpoint.path });
      socket.setNoDelay(true);
      const refused = (err: Error) => reject(new Error(`cannot reach the simulator: ${err.message}`));
      socket.once('error', refused);
      socket.once('connect', () => {
        socket.off('error', refused);
        this.socket = socket;
        socket.on('data', (chunk: Buffer) => {
          try {
            for (const frame of this.reader.push(chunk)) this.deliver(frame);
          } catch (err) {
            this.fail(err as Error);
            socket.destroy();
          }
        });
        // a killed simulator's socket ends with a FIN, a reset (a request still unread), or a
        // write after its end (EPIPE): all three say the same thing
        socket.on('error', (err: NodeJS.ErrnoException) => this.fail(new Error(err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'the simulator closed the connection' : `connection failed: ${err.message}`)));
        socket.on('close', () => this.fail(new Error('the simulator closed the connection')));
        resolve();
      });
    });
  }

  private deliver(frame: Frame): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w.resolve(frame);
    } else this.queued.push(frame);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w.reject(this.failure);
    }
  }

  next(): Promise<Frame> {
    const queued = this.queued.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => { this.waiting = { resolve, reject }; });
  }
}

const links = endpoints.map((e) => new Link(e));

async function serve(request: LinkRequest): Promise<LinkResponse> {
  let current = links[0];
  try {
    if (request.connect) {
      for (const link of links) {
        current = link;
        await link.open();
      }
    }
    const answers = links.map((link, k) => {
      const frame = request.frames[k];
      if (!frame) return Promise.resolve(null);
      link.socket!.write(frame);
      return link.next().catch((err: Error) => { current = link; throw err; });
    });
    return { ok: true, frames: await Promise.all(answers) };
  } catch (err) {
    const message = (err as Error).message;
    return { ok: false, endpoint: current.endpoint.url, message, lost: !message.startsWith('cannot reach') };
  }
}

port.on('message', (request: LinkRequest | 'close') => {
  if (request === 'close') {
    for (const link of links) link.socket?.destroy();
    port.close();
    return;
  }
  void serve(request).then((response) => {
    const transfer = response.ok ? response.frames.filter((f): f is Frame => f !== null).map((f) => f.body.buffer as ArrayBuffer) : [];
    port.postMessage(response, transfer);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  });
});
