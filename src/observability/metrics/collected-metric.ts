// A metric family whose values are read when Prometheus scrapes, registered in a
// prom-client Registry (which formats the exposition and escapes label values). Loom's
// request-path counters are plain numbers (see histogram.ts for the measured reason);
// gauges such as endpoint health are read from the live snapshot at scrape time, so they
// cost nothing between scrapes.
import type { Registry } from 'prom-client';
import type { MetricValue } from './histogram.js';

export type MetricType = 'counter' | 'gauge' | 'histogram';

export class CollectedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  private readonly collect: (out: MetricValue[]) => void;

  constructor(registry: Registry, name: string, help: string, type: MetricType, collect: (out: MetricValue[]) => void) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.collect = collect;
    // prom-client reads `name`, `help`, `type` and `get()`; `reset` is called by registry.resetMetrics().
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  get(): Promise<{ name: string; help: string; type: MetricType; values: MetricValue[]; aggregator: 'sum' }> {
    const values: MetricValue[] = [];
    this.collect(values);
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' });
  }

  reset(): void {}
}
