// Network faults at the transport seam: a Transport that hands every message it publishes and
// every message it receives to a filter, which may pass, drop, delay, duplicate or rewrite it —
// the same PublishFilter a link proxy applies to MQTT packets on the wire, so a fault engine's
// filters work unchanged. For fleets embedded in a program (and tests) that want faults without
// a TCP proxy per agent. Everything else (connection, QoS 1, last will) is the inner transport's.

import type { Transport, TransportFactory } from '@fleetmind/runtime';
import type { IPublishPacket } from 'mqtt-packet';
import type { LinkFilters } from '../network/link-proxy.js';

/** A transport factory whose transports filter what the inner factory's carry. */
export function faultInjectingTransport(inner: TransportFactory, filters: LinkFilters): TransportFactory {
  return (options, events) => {
    const packet = (topic: string, payload: Uint8Array): IPublishPacket => ({ cmd: 'publish', topic, payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), qos: 0, dup: false, retain: false });
    const down = filters.down;
    const transport: Transport = inner(options, {
      ...events,
      onMessage: down
        ? (topic, payload) => down(packet(topic, payload), (p) => events.onMessage(p.topic, p.payload as Buffer))
        : events.onMessage,
    });
    const up = filters.up;
    if (!up) return transport;
    return {
      get connected() { return transport.connected; },
      get reconnects() { return transport.reconnects; },
      start: () => transport.start(),
      subscribe: (topics) => transport.subscribe(topics),
      // what the agent sees is whether the link is up, as with a real lossy network
      publishNow: (topic, payload) => {
        if (!transport.connected) return false;
        up(packet(topic, payload), (p) => { transport.publishNow(p.topic, p.payload as Buffer); });
        return true;
      },
      publishConfirmed: (topic, payload, timeoutMs) => transport.publishConfirmed(topic, payload, timeoutMs),
      close: (timeoutMs) => transport.close(timeoutMs),
      destroy: () => transport.destroy(),
    };
  };
}
