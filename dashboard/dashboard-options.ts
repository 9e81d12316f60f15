// What a dashboard is started with, and the defaults: apart from the server, so that a command line
// can show them in its help without loading the server's parts (MQTT, WebSockets).

export interface DashboardOptions {
  broker: string;
  /** one fleet, or every fleet on the broker (null) */
  fleet: string | null;
  host: string;
  /** 0: any free port */
  port: number;
  username?: string;
  password?: string;
  /** an agent silent this long is shown offline, ms */
  peerTimeoutMs: number;
  /** how often the page is updated, ms */
  intervalMs: number;
  /** also serve a Foxglove WebSocket bridge on this port (0: any free one; null: none) */
  foxglovePort?: number | null;
}

export const defaultDashboardOptions = { host: '127.0.0.1', port: 8080, peerTimeoutMs: 1_000, intervalMs: 500, fleet: null };
