// Public API of the config layer.
export type * from './types.js';
export { loadConfigFile, loadConfigText, type LoadResult } from './load.js';
export { formatConfigError, formatConfigErrors } from './format-errors.js';
export { parseDuration, parseSize } from './units.js';
export { LOOM_SCHEMA } from './schema.js';
export { NOT_SUPPORTED, type NotSupportedEntry } from './not-supported.js';
