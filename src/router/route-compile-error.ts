// Thrown by compileRouter (cold path) when a route cannot be compiled. Config
// validation should have caught these already; the router re-checks because it is the
// component that gives patterns their meaning (see validatePattern / validateHostPattern,
// which validation can call to report the same problems as ConfigErrors).

export type RouteCompileErrorCode = 'bad_pattern' | 'bad_host' | 'bad_methods';

export class RouteCompileError extends Error {
  readonly code: RouteCompileErrorCode;
  /** The offending route's id, '' when the check was made outside a route. */
  readonly routeId: string;

  constructor(code: RouteCompileErrorCode, routeId: string, message: string) {
    super(routeId === '' ? message : `route "${routeId}": ${message}`);
    this.name = 'RouteCompileError';
    this.code = code;
    this.routeId = routeId;
  }
}
