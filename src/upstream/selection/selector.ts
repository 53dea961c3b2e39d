// The load-balancing contract. One Selector per upstream per snapshot; it is built
// once (cold path) and `select` runs per request (hot path: no allocation).
// Every implementation runs the shared suite in test/conformance/selector.test.ts.

import type { IncomingHttpHeaders } from 'node:http';
import type { UpstreamEndpoint } from '../endpoint.js';

/** What a selector may look at in the request. */
export interface SelectionInput {
  readonly clientIp: string;
  readonly headers: IncomingHttpHeaders;
  /** The raw query string without the leading `?`, '' when absent. */
  readonly rawQuery: string;
}

export interface Selector {
  /**
   * Pick an endpoint whose `available` is true, or undefined when none is.
   * `exclude` (optional) is an endpoint to avoid when another is available
   * (a retry uses it to pick a fresh endpoint).
   */
  select(input: SelectionInput, exclude?: UpstreamEndpoint): UpstreamEndpoint | undefined;
}

/** Uniform random number in [0, 1); injected so tests can be deterministic. */
export type RandomSource = () => number;
