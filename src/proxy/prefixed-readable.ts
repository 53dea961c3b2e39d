// A Readable that first emits chunks already read from `source`, then the rest of
// `source` — used when buffering a request body stopped at the retry buffer limit.
//
// Contract:
// - Backpressure: `source` is paused whenever push() returns false and resumed only
//   from _read, so at most one highWaterMark is held here beyond the prefix.
// - Errors: an 'error' from `source`, or a 'close' before its 'end' (client abort),
//   destroys this stream with `toError(cause)`. To never crash a process where nobody
//   consumes this stream yet (e.g. the circuit breaker refused the request), the error
//   is held until the first _read, i.e. until someone actually reads.
// - Destroying this stream detaches it from `source` and, if `source` has not ended,
//   resumes it so the rest is discarded (what Node's HTTP server does with an unread
//   body); destroying the client's request is left to the caller.
// - `source` must be paused (explicitly, via pause()) and its data listeners removed.
import { Readable } from 'node:stream';

export class PrefixedReadable extends Readable {
  private readonly prefix: Array<Buffer | undefined>;
  private next = 0;
  private readonly source: Readable;
  private readonly toError: (cause: unknown) => Error;
  private sourceEnded = false;
  private started = false;
  private pendingError: Error | undefined;

  constructor(prefix: Buffer[], source: Readable, toError: (cause: unknown) => Error) {
    super({ highWaterMark: source.readableHighWaterMark });
    this.prefix = prefix;
    this.source = source;
    this.toError = toError;
    source.on('data', this.onData);
    source.on('end', this.onEnd);
    source.on('error', this.onError);
    source.on('close', this.onClose);
    if (source.readableEnded) this.sourceEnded = true;
    else if (source.destroyed) this.fail(toError(source.errored ?? new Error('the request body was closed before its end')));
  }

  override _read(): void {
    this.started = true;
    if (this.pendingError !== undefined) {
      const err = this.pendingError;
      this.pendingError = undefined;
      this.destroy(err);
      return;
    }
    while (this.next < this.prefix.length) {
      const chunk = this.prefix[this.next] as Buffer;
      this.prefix[this.next++] = undefined; // let it be collected once consumed
      if (!this.push(chunk)) return;
    }
    if (this.sourceEnded) {
      this.push(null);
      return;
    }
    this.source.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.detach();
    if (!this.sourceEnded && !this.source.destroyed) this.source.resume();
    callback(err);
  }

  private readonly onData = (chunk: Buffer | string): void => {
    if (!this.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) this.source.pause();
  };

  private readonly onEnd = (): void => {
    this.sourceEnded = true;
    // The prefix is drained before source is ever resumed, so 'end' comes after it.
    if (this.next >= this.prefix.length) this.push(null);
  };

  private readonly onError = (err: unknown): void => {
    this.fail(this.toError(err));
  };

  private readonly onClose = (): void => {
    if (!this.sourceEnded) this.fail(this.toError(this.source.errored ?? new Error('the request body was closed before its end')));
  };

  private fail(err: Error): void {
    if (this.destroyed || this.pendingError !== undefined) return;
    if (this.started) this.destroy(err);
    else this.pendingError = err;
  }

  private detach(): void {
    this.source.off('data', this.onData);
    this.source.off('end', this.onEnd);
    this.source.off('error', this.onError);
    this.source.off('close', this.onClose);
  }
}
