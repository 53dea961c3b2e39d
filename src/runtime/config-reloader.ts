// Reloads the config file when it changes (fs.watch on its directory, so editors that
// replace the file by renaming are seen too), on SIGHUP, or when asked (the admin API
// later). A change is parsed, validated, compiled and swapped; a bad file is rejected
// whole, logged with file:line:column, and the running config keeps serving.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { formatConfigError } from '../config/format-errors.js';
import { loadConfigFile } from '../config/load.js';
import type { ConfigError } from '../config/types.js';
import type { Gateway } from '../gateway.js';
import type { ReloadStats } from './reload-stats.js';

export type ReloadTrigger = 'file' | 'signal' | 'api';

export type ReloadOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly errors: readonly ConfigError[] }
  | { readonly ok: false; readonly error: string };


/** Editors write a file in several steps; wait this long after the last event. */
export const RELOAD_DEBOUNCE_MS = 100;

export class ConfigReloader {
  readonly file: string;
  /** The gateway's counters (the admin API and metrics read them there). */
  readonly stats: ReloadStats;
  private readonly gateway: Gateway;
  private readonly logger: Logger;
  private readonly env: NodeJS.ProcessEnv;
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  /** Reloads run one at a time, each reading the file when its turn comes. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(gateway: Gateway, file: string, logger: Logger, env: NodeJS.ProcessEnv = process.env) {
    this.gateway = gateway;
    this.file = resolve(file);
    this.logger = logger;
    this.env = env;
    this.stats = gateway.reloadStats;
  }

  /**
   * Starts watching the file. Reloads caused by changes seen before `after` settles (the
   * gateway's start) wait for it, so a change made while Loom starts is applied once it runs,
   * never lost: the `loom` command calls this before it reads the file for the first time.
   */
  watch(after?: Promise<unknown>): void {
    if (after !== undefined) this.queue = this.queue.then(() => after).catch(() => undefined);
    const name = basename(this.file);
    this.watcher = watch(dirname(this.file), (_event, changed) => {
      if (changed !== null && changed !== name) return;
      if (this.debounce !== null) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        this.debounce = null;
        void this.reload('file');
      }, RELOAD_DEBOUNCE_MS);
    });
    this.watcher.on('error', (err) => this.logger.error({ err, file: this.file }, 'config watch failed; reload with SIGHUP'));
  }

  /** Loads the file and swaps it in; never throws. Calls are serialised (the newest file wins). */
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const next = this.queue.then(() => this.reloadNow(trigger));
    this.queue = next;
    return next;
  }

  private async reloadNow(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const started = performance.now();
    const result = await loadConfigFile(this.file, this.env);
    if (!result.ok) {
      this.failed();
      for (const e of result.errors) this.logger.error({ file: e.file, line: e.line, column: e.column, path: e.path, code: e.code }, formatConfigError(e));
      this.logger.error({ trigger, errors: result.errors.length }, 'config rejected: the previous config keeps serving');
      return { ok: false, errors: result.errors };
    }
    try {
      await this.gateway.reload(result.config);
    } catch (err) {
      this.failed();
      const message = err instanceof Error ? err.message : String(err);
      this.logger.error({ trigger, err: message }, 'config rejected: the previous config keeps serving');
      return { ok: false, error: message };
    }
    this.stats.successes++;
    this.stats.lastSuccessAt = Date.now();
    this.logger.info(
      {
        trigger,
        routes: result.config.routes.length,
        upstreams: result.config.upstreams.length,
        listeners: this.gateway.addresses(),
        duration_ms: Math.round((performance.now() - started) * 100) / 100,
      },
      'config reloaded',
    );
    return { ok: true };
  }

  private failed(): void {
    this.stats.failures++;
    this.stats.lastFailureAt = Date.now();
  }

  close(): void {
    if (this.debounce !== null) clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = null;
  }
}
