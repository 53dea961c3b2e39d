// An error of the upstream HTTP/1.1 connection or its response parser. `code` is what
// classify-error maps to a gateway error: LOOM_H1_* for the connection's own failures,
// llhttp's HPE_* names for malformed responses.
export class Http1Error extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'Http1Error';
    this.code = code;
  }
}
