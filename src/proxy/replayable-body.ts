// Buffers a request body so a retry can send it again (RetryConfig.buffer_limit).
// Bodies up to `limit` bytes are kept in memory; larger ones are streamed once and the
// request is then not retried (retry-policy: body_not_replayable).
//
//   content-length known and > limit → { kind: 'stream', body: req } at once, nothing read
//   body ended within limit          → { kind: 'empty' } (0 bytes) | { kind: 'buffered', body }
//   more than limit bytes arrived    → { kind: 'stream', body: PrefixedReadable } that
//                                      emits what was read, then the rest of req
//
// Client abort (decision): while buffering, the promise rejects with a GatewayError
// LOOM_ERR_CLIENT_ABORTED (cause: the original error) — the caller answers 499 and
// never contacts the upstream. Once 'stream' was returned, the same error destroys the
// returned stream (surfacing at its first read; see prefixed-readable.ts), which
// aborts the upstream request that consumes it. In the content-length > limit case the
// body *is* req, so it behaves as req does.
// The promise always settles: on 'end', on 'error', or on 'close' before 'end'.
// Slow clients are bounded by the HTTP server's requestTimeout, not here.
import type { Readable } from 'node:stream';
import { GatewayError } from '../errors.js';
import { PrefixedReadable } from './prefixed-readable.js';

export type ReplayableBody =
  | { readonly kind: 'empty' }
  | { readonly kind: 'buffered'; readonly body: Buffer }
  | { readonly kind: 'stream'; readonly body: Readable };

const EMPTY: ReplayableBody = { kind: 'empty' };

/** True when a retry can resend the body (input for decideRetry's bodyReplayable). */
export function isReplayable(body: ReplayableBody): boolean {
  return body.kind !== 'stream';
}

export function clientAbortedError(cause: unknown): GatewayError {
  if (cause instanceof GatewayError) return cause;
  return new GatewayError('LOOM_ERR_CLIENT_ABORTED', 'the client closed the connection while sending the request body', { cause });
}

export function readReplayableBody(req: Readable, contentLength: number | undefined, limit: number): Promise<ReplayableBody> {
  if (contentLength !== undefined && contentLength > limit) {
    return Promise.resolve({ kind: 'stream', body: req });
  }
  if (req.readableEnded) return Promise.resolve(EMPTY);
  if (req.destroyed) {
    return Promise.reject(clientAbortedError(req.errored ?? new Error('the request was destroyed before its body was read')));
  }

  return new Promise<ReplayableBody>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;

    const detach = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer | string): void => {
      if (settled) return;
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(buf);
      total += buf.length;
      if (total > limit) {
        settled = true;
        req.pause();
        detach();
        resolve({ kind: 'stream', body: new PrefixedReadable(chunks, req, clientAbortedError) });
      }
    };
    const onEnd = (): void => {
      if (settled) return;
      settled = true;
      detach();
      if (total === 0) resolve(EMPTY);
      else resolve({ kind: 'buffered', body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total) });
    };
    const onError = (err: unknown): void => {
      if (settled) return;
      settled = true;
      detach();
      reject(clientAbortedError(err));
    };
    const onClose = (): void => {
      // 'close' after 'end' is normal; onEnd already settled. Before it: the client went away.
      if (settled) return;
      onError(req.errored ?? new Error('the request was closed before its body ended'));
    };

    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
