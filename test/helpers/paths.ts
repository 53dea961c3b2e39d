// Paths for tests, which run compiled from dist/test/…: fixtures are read from the
// source tree, never from dist.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root (the folder holding package.json). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function fromRoot(...parts: string[]): string {
  return join(repoRoot, ...parts);
}

/** Set UPDATE_GOLDEN=1 to rewrite golden files instead of comparing. */
export const updateGolden = process.env.UPDATE_GOLDEN === '1';
