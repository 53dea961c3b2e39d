// Incremental parser for HTTP/1.1 responses from an upstream (RFC 9112), fed the bytes of
// each socket read. Body bytes are handed to the sink as views of the buffer being parsed
// (no copy); the sink may ask to pause, and parsing resumes where it stopped.
//
// Written by hand instead of using undici's llhttp because it sits on the streaming hot
// path: see http1-connection.ts for the measurement. Strictness follows llhttp's defaults:
// CRLF line endings, no obs-fold, token header names, one Content-Length value (repeats
// must agree), chunked must be the final transfer coding, 16 KiB heads and trailers.
// Malformed input throws Http1Error with llhttp's HPE_* code.
import { Http1Error } from './http1-error.js';

export interface ResponseSink {
  /** Final (≥ 200) response head; `headers` is a flat [name, value, …] list. false: pause. */
  onHead(status: number, statusText: string, headers: string[]): boolean;
  /** A view of the buffer being parsed, valid until the connection reuses it. false: pause. */
  onBody(chunk: Buffer): boolean;
}

export const MAX_HEAD_BYTES = 16 * 1024;
const MAX_CHUNK_LINE = 4096;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: (.*))?$/;
/** Control characters other than HTAB: not allowed in field values or the reason phrase (RFC 9110 §5.5). */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

const enum State {
  Head,
  Length,
  UntilClose,
  ChunkSize,
  ChunkExt,
  ChunkSizeLf,
  ChunkData,
  ChunkDataCr,
  ChunkDataLf,
  Trailers,
  Done,
}

export class ResponseParser {
  private state = State.Done;
  private sink: ResponseSink | null = null;
  private noBody = false;
  /** Head bytes collected across reads; copied, never a view of a read buffer. */
  private pendingHead: Buffer | null = null;
  private remaining = 0;
  private chunkDigits = 0;
  private lineBytes = 0;
  private trailerText = '';
  /** The connection may carry another request after this response. */
  keepAlive = true;
  /** Milliseconds from the upstream's `Keep-Alive: timeout=N`, or -1. */
  keepAliveHint = -1;
  /** The sink asked to pause; `execute` returned early. */
  paused = false;
  /** The trailers of a completed chunked response (flat [name, value, …]), else null. */
  trailers: string[] | null = null;

  /** Prepares for the response to one request. `noBody`: the request was HEAD. */
  start(sink: ResponseSink, noBody: boolean): void {
    this.sink = sink;
    this.noBody = noBody;
    this.state = State.Head;
    this.pendingHead = null;
    this.keepAlive = true;
    this.keepAliveHint = -1;
    this.paused = false;
    this.trailers = null;
    this.trailerText = '';
  }

  /** The response is complete (or none was started). */
  get done(): boolean {
    return this.state === State.Done;
  }

  /** The head has been read and the body has not ended: the upstream owes body bytes. */
  get inBody(): boolean {
    return this.state !== State.Head && this.state !== State.Done;
  }

  /** The upstream closed the connection: completes a close-delimited body. Returns whether it did. */
  finishAtClose(): boolean {
    if (this.state !== State.UntilClose) return false;
    this.complete(null);
    return true;
  }

  /**
   * Parses buf[pos, end). Returns the offset where it stopped: `end`, or earlier when the
   * sink paused (`paused`) or the response ended (`done`; the rest is not part of it).
   * Throws Http1Error.
   */
  execute(buf: Buffer, pos: number, end: number): number {
    this.paused = false;
    while (pos < end) {
      switch (this.state) {
        case State.Head:
          pos = this.parseHead(buf, pos, end);
          if (this.paused) return pos;
          break;
        case State.Length:
        case State.ChunkData: {
          const n = Math.min(this.remaining, end - pos);
          this.remaining -= n;
          const goOn = this.sink!.onBody(buf.subarray(pos, pos + n));
          pos += n;
          if (this.remaining === 0) {
            if (this.state === State.Length) this.complete(null);
            else this.state = State.ChunkDataCr;
          }
          if (this.body(goOn)) return pos;
          break;
        }
        case State.UntilClose: {
          const goOn = this.sink!.onBody(buf.subarray(pos, end));
          pos = end;
          if (this.body(goOn)) return pos;
          break;
        }
        case State.ChunkSize: {
          const c = buf[pos++];
          const d = hexValue(c);
          if (d >= 0) {
            if (++this.chunkDigits > 12) throw protocol('HPE_INVALID_CHUNK_SIZE', 'chunk size too large');
            this.remaining = this.remaining * 16 + d;
          } else if (this.chunkDigits === 0) {
            throw protocol('HPE_INVALID_CHUNK_SIZE', 'chunk size expected');
          } else if (c === 0x3b /* ; */ || c === 0x20 || c === 0x09) {
            this.state = State.ChunkExt;
            this.lineBytes = 0;
          } else if (c === 0x0d) {
            this.state = State.ChunkSizeLf;
          } else {
            throw protocol('HPE_INVALID_CHUNK_SIZE', 'invalid character in chunk size');
          }
          break;
        }
        case State.ChunkExt: {
          const c = buf[pos++];
          if (c === 0x0d) this.state = State.ChunkSizeLf;
          else if (c === 0x0a || ++this.lineBytes > MAX_CHUNK_LINE) throw protocol('HPE_INVALID_CHUNK_SIZE', 'invalid chunk extension');
          break;
        }
        case State.ChunkSizeLf:
          if (buf[pos++] !== 0x0a) throw protocol('HPE_STRICT', 'expected LF after chunk size');
          if (this.remaining === 0) {
            this.state = State.Trailers;
            this.lineBytes = 0;
          } else this.state = State.ChunkData;
          break;
        case State.ChunkDataCr:
          if (buf[pos++] !== 0x0d) throw protocol('HPE_STRICT', 'expected CRLF after chunk data');
          this.state = State.ChunkDataLf;
          break;
        case State.ChunkDataLf:
          if (buf[pos++] !== 0x0a) throw protocol('HPE_STRICT', 'expected CRLF after chunk data');
          this.beginChunk();
          break;
        case State.Trailers:
          pos = this.parseTrailers(buf, pos, end);
          break;
        case State.Done:
          // Not parsing a response: whatever follows is the caller's to judge.
          return pos;
      }
      if ((this.state as State) === State.Done) return pos;
    }
    return pos;
  }

  /** Records a sink's answer; true when parsing must stop now. */
  private body(goOn: boolean): boolean {
    if (!goOn) {
      this.paused = true;
      return true;
    }
    return this.state === State.Done;
  }

  private beginChunk(): void {
    this.state = State.ChunkSize;
    this.remaining = 0;
    this.chunkDigits = 0;
  }

  private complete(trailers: string[] | null): void {
    this.state = State.Done;
    this.sink = null;
    this.trailers = trailers;
  }

  /** Returns the offset right after the head in `buf` (or `end` when the head continues in the next read). */
  private parseHead(buf: Buffer, pos: number, end: number): number {
    if (this.pendingHead === null) {
      const i = buf.subarray(pos, end).indexOf(CRLFCRLF);
      if (i < 0) {
        if (end - pos > MAX_HEAD_BYTES) throw headOverflow();
        this.pendingHead = Buffer.from(buf.subarray(pos, end));
        return end;
      }
      if (i > MAX_HEAD_BYTES) throw headOverflow();
      this.onHeadText(buf.toString('latin1', pos, pos + i));
      return pos + i + 4;
    }
    const before = this.pendingHead.length;
    const joined = Buffer.concat([this.pendingHead, buf.subarray(pos, Math.min(end, pos + MAX_HEAD_BYTES + 4))]);
    const i = joined.indexOf(CRLFCRLF, Math.max(0, before - 3));
    if (i < 0 || i > MAX_HEAD_BYTES) {
      if (joined.length > MAX_HEAD_BYTES) throw headOverflow();
      this.pendingHead = joined;
      return end;
    }
    this.pendingHead = null;
    this.onHeadText(joined.toString('latin1', 0, i));
    return pos + (i + 4 - before);
  }

  private onHeadText(text: string): void {
    const lines = text.split('\r\n');
    const m = STATUS_LINE.exec(lines[0]);
    if (m === null || (m[3] !== undefined && CONTROL.test(m[3]))) throw protocol('HPE_INVALID_CONSTANT', 'invalid status line');
    const http10 = m[1] === '0';
    const status = Number(m[2]);
    const headers: string[] = [];
    let contentLength = -1;
    let chunked = false;
    let transferEncoding = false;
    let close = http10;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const colon = line.indexOf(':');
      if (colon <= 0) throw protocol('HPE_INVALID_HEADER_TOKEN', 'invalid header line');
      const name = line.slice(0, colon);
      if (!TOKEN.test(name)) throw protocol('HPE_INVALID_HEADER_TOKEN', 'invalid header name');
      const value = line.slice(colon + 1).trim();
      if (CONTROL.test(value)) throw protocol('HPE_INVALID_HEADER_TOKEN', 'invalid character in a header value');
      headers.push(name, value);
      switch (name.length) {
        case 10:
          if (name.toLowerCase() === 'connection') {
            const v = value.toLowerCase();
            if (v.includes('close')) close = true;
            else if (http10 && v.includes('keep-alive')) close = false;
          } else if (name.toLowerCase() === 'keep-alive') {
            const t = /timeout=(\d+)/i.exec(value);
            if (t !== null) this.keepAliveHint = Number(t[1]) * 1000;
          }
          break;
        case 14:
          if (name.toLowerCase() === 'content-length') {
            for (const part of value.split(',')) {
              const v = part.trim();
              if (!/^\d{1,15}$/.test(v)) throw protocol('HPE_INVALID_CONTENT_LENGTH', 'invalid Content-Length');
              const n = Number(v);
              if (contentLength !== -1 && n !== contentLength) throw protocol('HPE_UNEXPECTED_CONTENT_LENGTH', 'conflicting Content-Length values');
              contentLength = n;
            }
          }
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') {
            transferEncoding = true;
            const codings = value.toLowerCase().split(',');
            chunked = codings[codings.length - 1].trim() === 'chunked';
          }
          break;
      }
    }
    if (status < 200) {
      // 1xx interim responses are dropped (101 is never asked for: Upgrade is hop-by-hop).
      if (status === 101) throw protocol('HPE_INVALID_STATUS', 'unexpected 101 Switching Protocols');
      this.state = State.Head;
      return;
    }
    this.keepAlive = !close;
    // RFC 9112 §6.3: the framing of a response.
    if (this.noBody || status === 204 || status === 304) this.state = State.Done;
    else if (transferEncoding) {
      if (chunked) this.beginChunk();
      else {
        this.state = State.UntilClose;
        this.keepAlive = false;
      }
      // Transfer-Encoding with Content-Length: Transfer-Encoding wins; close after (§6.1).
      if (contentLength !== -1) this.keepAlive = false;
    } else if (contentLength >= 0) {
      this.remaining = contentLength;
      this.state = contentLength === 0 ? State.Done : State.Length;
    } else {
      this.state = State.UntilClose;
      this.keepAlive = false;
    }
    const goOn = this.sink!.onHead(status, m[3] ?? '', headers);
    if (this.state === State.Done) this.complete(null);
    else if (!goOn) this.paused = true;
  }

  private parseTrailers(buf: Buffer, pos: number, end: number): number {
    // Rare path: collected as text until the empty line that ends them.
    while (pos < end) {
      const c = buf[pos++];
      this.trailerText += String.fromCharCode(c);
      if (++this.lineBytes > MAX_HEAD_BYTES) throw protocol('HPE_HEADER_OVERFLOW', 'trailers larger than 16 KiB');
      if (c !== 0x0a) continue;
      const t = this.trailerText;
      if (t === '\r\n' || t.endsWith('\r\n\r\n')) {
        this.complete(t === '\r\n' ? null : parseTrailerLines(t.slice(0, -4)));
        return pos;
      }
      if (t.length < 2 || t.charCodeAt(t.length - 2) !== 0x0d) throw protocol('HPE_STRICT', 'expected CRLF in trailers');
    }
    return pos;
  }
}

function parseTrailerLines(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0 || !TOKEN.test(line.slice(0, colon))) throw protocol('HPE_INVALID_HEADER_TOKEN', 'invalid trailer line');
    const value = line.slice(colon + 1).trim();
    if (CONTROL.test(value)) throw protocol('HPE_INVALID_HEADER_TOKEN', 'invalid character in a trailer value');
    out.push(line.slice(0, colon), value);
  }
  return out;
}

function headOverflow(): Http1Error {
  return protocol('HPE_HEADER_OVERFLOW', 'response head larger than 16 KiB');
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function protocol(code: string, message: string): Http1Error {
  return new Http1Error(code, message);
}
