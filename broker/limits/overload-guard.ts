// Keeps aedes's message emitter (mqemitter, or mqemitter-redis which extends it) alive under
// overload. Two failure modes were reproduced here (bench/broker-overload.ts):
//
// 1. Stack overflow (the fix). Past its concurrency, mqemitter queues messages; each finished
//    message synchronously starts the next (`released` → `_do` → `parallel` → `released` …).
//    When the subscribers have just disconnected, every queued message matches nobody and
//    completes synchronously, so draining a long queue recurses once per message until
//    `RangeError: Maximum call stack size exceeded` kills the broker. We trampoline: past a
//    small synchronous depth, the next message starts on a fresh stack (setImmediate).
// 2. Unbounded memory (the guard). An overloaded broker queues without limit (RSS grew past
//    300 MB in seconds). Peer messages are QoS 0 and a late one is worthless, so once the queue
//    holds maxQueued messages, further QoS 0 publishes are dropped and counted; QoS 1/2 never are.

interface Emitter {
  _do(message: unknown, callback: (err?: Error) => void): unknown;
  emit(message: unknown, callback?: (err?: Error) => void): unknown;
  _messageQueue: unknown[];
}

export interface OverloadGuardOptions {
  /** most messages waiting in the emitter before QoS 0 publishes are shed */
  maxQueued: number;
  /** synchronous hand-offs allowed before the next message starts on a fresh stack */
  maxSyncDepth?: number;
  /** called for each shed message */
  onShed: () => void;
}

export function guardEmitter<T extends object>(mq: T, options: OverloadGuardOptions): T {
  const emitter = mq as unknown as Emitter;
  const maxSyncDepth = options.maxSyncDepth ?? 64;
  const run = emitter._do.bind(emitter);
  const emit = emitter.emit.bind(emitter);
  let depth = 0;
  emitter._do = function guardedDo(message, callback) {
    if (depth >= maxSyncDepth) {
      setImmediate(() => emitter._do(message, callback));
      return emitter;
    }
    depth++;
    try {
      return run(message, callback);
    } finally {
      depth--;
    }
  };
  emitter.emit = function guardedEmit(message, callback) {
    const qos = (message as { qos?: number }).qos ?? 0;
    if (qos === 0 && emitter._messageQueue.length >= options.maxQueued) {
      options.onShed();
      callback?.();
      return emitter;
    }
    return emit(message, callback);
  };
  return mq;
}
