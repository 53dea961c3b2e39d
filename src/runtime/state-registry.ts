// State that must outlive one snapshot (connection pools, endpoint state, later health
// and circuit-breaker state) lives here, keyed and reference-counted. A snapshot acquires
// what it uses; when it is disposed it releases; the last release disposes the value.
// So a reload that keeps an upstream unchanged keeps its warm connections.

interface Entry<T> {
  value: T;
  refs: number;
  dispose: (value: T) => Promise<void> | void;
}

export class StateRegistry {
  private readonly entries = new Map<string, Entry<unknown>>();

  acquire<T>(key: string, create: () => T, dispose: (value: T) => Promise<void> | void): T {
    const found = this.entries.get(key) as Entry<T> | undefined;
    if (found) {
      found.refs++;
      return found.value;
    }
    const entry: Entry<T> = { value: create(), refs: 1, dispose };
    this.entries.set(key, entry as Entry<unknown>);
    return entry.value;
  }

  async release(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return;
    if (--entry.refs > 0) return;
    this.entries.delete(key);
    await entry.dispose(entry.value);
  }

  /** Cold path: the value of any entry whose key starts with `prefix`. */
  findByPrefix<T>(prefix: string): T | undefined {
    for (const [key, entry] of this.entries) if (key.startsWith(prefix)) return entry.value as T;
    return undefined;
  }

  get size(): number {
    return this.entries.size;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }
}
