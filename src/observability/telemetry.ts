// The one ExchangeObserver the listeners hold: fans a finished request (and each finished
// upstream try) out to the metrics and the access log. Both are reconfigured in place on
// reload (`configure`), so listeners never need a new observer. Tracing is not here: its
// spans start with the request, so the snapshot carries the live Tracing (see gateway.ts).
import type { GatewayConfig } from '../config/types.js';
import type { GatewayError } from '../errors.js';
import type { ExchangeObserver, ProxyExchange } from '../proxy/proxy-exchange.js';
import type { UpstreamTry } from '../proxy/upstream-try.js';
import type { AccessLog } from './access-log.js';
import type { GatewayMetrics } from './metrics/gateway-metrics.js';

export class Telemetry implements ExchangeObserver {
  readonly accessLog: AccessLog;
  /** Kept while metrics are off so counters resume (not restart) when a reload turns them back on. */
  readonly metrics: GatewayMetrics;
  /** `metrics` while `metrics.enabled`, else null: the request path tests this one field. */
  private recording: GatewayMetrics | null;

  constructor(accessLog: AccessLog, metrics: GatewayMetrics) {
    this.accessLog = accessLog;
    this.metrics = metrics;
    this.recording = metrics;
  }

  configure(config: GatewayConfig): void {
    this.accessLog.configure(config.access_log);
    this.recording = config.metrics.enabled ? this.metrics : null;
  }

  get metricsEnabled(): boolean {
    return this.recording !== null;
  }

  /** Hot path. */
  onExchangeEnd(x: ProxyExchange): void {
    if (this.recording !== null) this.recording.recordExchange(x);
    this.accessLog.onExchangeEnd(x);
  }

  /** Hot path. */
  onTryEnd(x: ProxyExchange, t: UpstreamTry, status: number | undefined, err: GatewayError | undefined): void {
    if (this.recording !== null) {
      this.recording.recordTry(x.group!.name, t.endpoint.address, status, err?.code, performance.now() - t.dispatchedAt);
    }
  }
}
