// The small JSON body every locally generated error carries. Never a stack trace.
import type { ServerResponse } from 'node:http';
import type { GatewayError } from '../errors.js';

export interface ErrorBodyExtras {
  readonly requestId: string;
  readonly upstream?: string;
  readonly allow?: readonly string[];
}

export function errorBody(err: GatewayError, extras: ErrorBodyExtras): string {
  return JSON.stringify({
    error: {
      code: err.code,
      status: err.status,
      message: err.message,
      ...(extras.upstream !== undefined ? { upstream: extras.upstream } : {}),
      request_id: extras.requestId,
    },
  });
}

/** Writes the error when no response has started; otherwise cuts the connection (the only honest signal left). */
export function sendError(res: ServerResponse, err: GatewayError, extras: ErrorBodyExtras): void {
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  const body = errorBody(err, extras);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-request-id': extras.requestId,
    'cache-control': 'no-store',
  };
  if (extras.allow) headers.allow = extras.allow.join(', ');
  res.writeHead(err.status === 499 ? 400 : err.status, headers);
  res.end(body);
}
