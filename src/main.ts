#!/usr/bin/env node
// CLI entry: flags, signals, exit codes.
//   0  clean exit (or `validate` found no error)
//   1  runtime failure (a listener could not bind, …)
//   2  usage error or invalid config
import { parseCliArgs, USAGE } from './cli-args.js';
import { loadConfigFile } from './config/load.js';
import { formatConfigErrors } from './config/format-errors.js';
import { compile } from './compile/compile.js';
import { Gateway } from './gateway.js';
import { createLogger } from './observability/logger.js';
import { AccessLog } from './observability/access-log.js';
import { ConfigReloader } from './runtime/config-reloader.js';
import { VERSION } from './version.js';

async function main(argv: readonly string[]): Promise<number> {
  const command = parseCliArgs(argv);
  switch (command.kind) {
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    case 'version':
      process.stdout.write(`loom ${VERSION} (node ${process.version})\n`);
      return 0;
    case 'usage_error':
      process.stderr.write(`loom: ${command.message}\n\n${USAGE}`);
      return 2;
    case 'validate': {
      const result = await loadConfigFile(command.config, process.env);
      if (!result.ok) {
        process.stderr.write(`${formatConfigErrors(result.errors)}\n`);
        process.stderr.write(`${command.config}: ${result.errors.length} error${result.errors.length === 1 ? '' : 's'}\n`);
        return 2;
      }
      const compiled = compile(result.config);
      process.stdout.write(
        `${command.config}: ok (${compiled.config.listeners.length} listeners, ${compiled.routes.length} routes, ${compiled.upstreams.length} upstreams)\n`,
      );
      return 0;
    }
    case 'run':
      return run(command.config, command.logLevel, command.logFormat);
  }
}

async function run(configPath: string, logLevel: Parameters<typeof createLogger>[0]['level'], logFormat: 'json' | 'pretty'): Promise<number> {
  const logger = createLogger({ level: logLevel, format: logFormat });
  // Batched access log: lines reach stdout at most 200 ms late (see access-log.ts).
  const accessLog = new AccessLog(logger, { batchBytes: 16 * 1024 });
  const gateway = new Gateway({ logger, accessLog });
  const reloader = new ConfigReloader(gateway, configPath, logger);
  gateway.setReloader(() => reloader.reload('api'));
  // Watch before the first read: a change made while Loom starts is reloaded once it runs.
  let started!: () => void;
  reloader.watch(new Promise<void>((resolve) => (started = resolve)));
  process.on('SIGHUP', () => void reloader.reload('signal'));
  const result = await loadConfigFile(configPath, process.env);
  if (!result.ok) {
    reloader.close();
    process.stderr.write(`${formatConfigErrors(result.errors)}\n`);
    logger.error({ file: configPath, errors: result.errors.length }, 'invalid config');
    logger.flush();
    return 2;
  }
  try {
    await gateway.start(result.config);
  } catch (err) {
    reloader.close();
    logger.error({ err }, 'could not start');
    logger.flush();
    return 1;
  }
  started();
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        accessLog.flush();
        logger.warn({ signal }, 'second signal: exiting now');
        logger.flush();
        process.exit(1);
      }
      reloader.close();
      const stopped = gateway.stop(); // stops accepting before the line below is written
      logger.info({ signal, inflight: gateway.inflight }, 'shutting down');
      void stopped.then(() => {
        accessLog.flush();
        logger.info('stopped');
        logger.flush();
        resolve(0);
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`loom: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
