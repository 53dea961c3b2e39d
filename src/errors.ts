// Typed gateway errors. Every code is documented in docs/errors.md (a test checks it).
// `status` is what the client gets; `source` says who is at fault; `retryable` says
// whether the request could safely be tried again on another endpoint.

export type ErrorSource = 'client' | 'upstream' | 'internal';

export interface GatewayErrorSpec {
  readonly status: number;
  readonly source: ErrorSource;
  readonly retryable: boolean;
  readonly message: string;
}

export const ERROR_CODES = {
  LOOM_ERR_ROUTE_NOT_FOUND: { status: 404, source: 'client', retryable: false, message: 'no route matches the request' },
  LOOM_ERR_METHOD_NOT_ALLOWED: { status: 405, source: 'client', retryable: false, message: 'the route does not allow this method' },
  LOOM_ERR_BAD_PATH: { status: 400, source: 'client', retryable: false, message: 'the request path is malformed or contains an encoded slash or backslash' },
  LOOM_ERR_BAD_REQUEST: { status: 400, source: 'client', retryable: false, message: 'the request is malformed' },
  LOOM_ERR_HEADERS_TOO_LARGE: { status: 431, source: 'client', retryable: false, message: 'the request headers are too large' },
  LOOM_ERR_REQUEST_TIMEOUT: { status: 408, source: 'client', retryable: false, message: 'the client was too slow sending the request' },
  LOOM_ERR_POOL_TIMEOUT: { status: 503, source: 'upstream', retryable: true, message: 'no upstream connection became free in time' },
  LOOM_ERR_CIRCUIT_OPEN: { status: 503, source: 'upstream', retryable: false, message: "the upstream's circuit breaker is open" },
  LOOM_ERR_NO_ENDPOINT: { status: 503, source: 'upstream', retryable: false, message: 'the upstream has no endpoint available' },
  LOOM_ERR_UPSTREAM_CONNECT: { status: 502, source: 'upstream', retryable: true, message: 'could not connect to the upstream' },
  LOOM_ERR_UPSTREAM_RESET: { status: 502, source: 'upstream', retryable: false, message: 'the upstream closed or reset the connection' },
  LOOM_ERR_UPSTREAM_PROTOCOL: { status: 502, source: 'upstream', retryable: false, message: 'the upstream sent an invalid response' },
  LOOM_ERR_UPSTREAM_CONNECT_TIMEOUT: { status: 504, source: 'upstream', retryable: true, message: 'timed out connecting to the upstream' },
  LOOM_ERR_UPSTREAM_TIMEOUT: { status: 504, source: 'upstream', retryable: false, message: 'timed out waiting for the upstream' },
  LOOM_ERR_CLIENT_ABORTED: { status: 499, source: 'client', retryable: false, message: 'the client closed the connection' },
  LOOM_ERR_INTERNAL: { status: 500, source: 'internal', retryable: false, message: 'internal gateway error' },
  // Admin API only.
  LOOM_ERR_NOT_FOUND: { status: 404, source: 'client', retryable: false, message: 'no admin endpoint, upstream or endpoint by that name' },
  LOOM_ERR_UNAUTHORIZED: { status: 401, source: 'client', retryable: false, message: 'valid admin credentials are required' },
  LOOM_ERR_NO_CONFIG_FILE: { status: 409, source: 'client', retryable: false, message: 'the gateway was not started from a config file, so there is nothing to reload' },
} as const satisfies Record<string, GatewayErrorSpec>;

export type GatewayErrorCode = keyof typeof ERROR_CODES;

export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  readonly status: number;
  readonly source: ErrorSource;
  readonly retryable: boolean;

  constructor(code: GatewayErrorCode, detail?: string, options?: { cause?: unknown }) {
    const spec: GatewayErrorSpec = ERROR_CODES[code];
    super(detail ?? spec.message, options);
    this.name = 'GatewayError';
    this.code = code;
    this.status = spec.status;
    this.source = spec.source;
    this.retryable = spec.retryable;
  }
}
