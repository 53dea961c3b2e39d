// Maps an error from the upstream connection (or the socket under it) to a GatewayError with a code,
// a status (502/504/499) and whether another try could help.
import { GatewayError } from '../errors.js';

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function classifyUpstreamError(err: unknown, upstream: string, phase: 'connect' | 'response'): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = codeOf(err);
  const cause = { cause: err };
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return new GatewayError('LOOM_ERR_UPSTREAM_CONNECT', `could not connect to upstream "${upstream}" (${code})`, cause);
    case 'LOOM_H1_CONNECT_TIMEOUT':
      return new GatewayError('LOOM_ERR_UPSTREAM_CONNECT_TIMEOUT', `timed out connecting to upstream "${upstream}"`, cause);
    case 'LOOM_H1_HEADERS_TIMEOUT':
      return new GatewayError('LOOM_ERR_UPSTREAM_TIMEOUT', `upstream "${upstream}" did not answer in time`, cause);
    case 'LOOM_H1_BODY_TIMEOUT':
      return new GatewayError('LOOM_ERR_UPSTREAM_TIMEOUT', `upstream "${upstream}" stalled while sending the body`, cause);
    case 'LOOM_H1_INVALID_HEADER':
      // A header of the client's request that cannot be sent upstream (CR or LF in it).
      return new GatewayError('LOOM_ERR_BAD_REQUEST', `the request cannot be forwarded: ${(err as Error).message}`, cause);
    case 'LOOM_H1_ABORTED':
      return new GatewayError('LOOM_ERR_CLIENT_ABORTED', undefined, cause);
    default:
      // The response parser's codes (llhttp's names): a malformed response.
      if (typeof code === 'string' && code.startsWith('HPE_')) {
        return new GatewayError('LOOM_ERR_UPSTREAM_PROTOCOL', `upstream "${upstream}" sent an invalid response (${code})`, cause);
      }
      if (phase === 'connect' && code === 'ECONNRESET') {
        return new GatewayError('LOOM_ERR_UPSTREAM_RESET', `upstream "${upstream}" reset the connection`, cause);
      }
      return new GatewayError('LOOM_ERR_UPSTREAM_RESET', `upstream "${upstream}" closed the connection${code ? ` (${code})` : ''}`, cause);
  }
}
