// Shared end of every selector: nothing but `exclude` (or nothing at all) is available.
// The contract says `exclude` is avoided only "when another is available", so a
// retry against a one-endpoint upstream still gets that endpoint. Cold-ish path:
// only reached when the normal scan found nothing; O(n), no allocation.

import type { UpstreamEndpoint } from '../endpoint.js';

/** `exclude` when it is one of `endpoints` and available, else undefined. */
export function excludeFallback(
  endpoints: readonly UpstreamEndpoint[],
  exclude: UpstreamEndpoint | undefined,
): UpstreamEndpoint | undefined {
  if (exclude === undefined || !exclude.available) return undefined;
  for (let i = 0; i < endpoints.length; i++) if (endpoints[i] === exclude) return exclude;
  return undefined;
}
