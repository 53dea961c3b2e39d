// Programmatic API: embed the gateway or drive it from tests.
export { Gateway, type GatewayOptions } from './gateway.js';
export { loadConfigFile, loadConfigText } from './config/load.js';
export { formatConfigErrors } from './config/format-errors.js';
export { compile } from './compile/compile.js';
export type { GatewayConfig, ConfigError } from './config/types.js';
export { createLogger, silentLogger } from './observability/logger.js';
export { GatewayError, ERROR_CODES } from './errors.js';
export { VERSION } from './version.js';
