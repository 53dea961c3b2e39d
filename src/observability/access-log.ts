// One access-log line per finished request, as a pino object at info level:
//   {"msg":"request","request_id","method","path","route","upstream","endpoint",
//    "status","duration_ms","bytes","tries","client_ip","error"}
// Cost: one object and one pino write per request; skipped entirely below info level.
import type { Logger } from 'pino';
import type { ExchangeObserver, ProxyExchange } from '../proxy/proxy-exchange.js';

export class AccessLog implements ExchangeObserver {
  private readonly logger: Logger;
  private readonly enabled: boolean;

  constructor(logger: Logger) {
    this.logger = logger;
    this.enabled = logger.isLevelEnabled('info');
  }

  onExchangeEnd(x: ProxyExchange): void {
    if (!this.enabled) return;
    this.logger.info(
      {
        request_id: x.requestId,
        method: x.req.method,
        path: x.path,
        route: x.route?.id ?? null,
        upstream: x.group?.name ?? null,
        endpoint: x.endpoint?.address ?? null,
        status: x.status,
        duration_ms: Math.round(x.elapsed() * 1000) / 1000,
        bytes: x.bytes,
        tries: x.tries,
        client_ip: x.clientIp,
        error: x.error?.code ?? null,
      },
      'request',
    );
  }
}
