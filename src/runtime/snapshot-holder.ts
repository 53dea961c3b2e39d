// The one reference that is swapped on reload. Requests read `current` once and keep it.
import type { Snapshot } from './snapshot.js';

export class SnapshotHolder {
  private snapshot: Snapshot | null = null;

  get current(): Snapshot | null {
    return this.snapshot;
  }

  /** Installs `next` and returns the previous snapshot (to drain and release). */
  swap(next: Snapshot): Snapshot | null {
    const previous = this.snapshot;
    this.snapshot = next;
    return previous;
  }

  clear(): Snapshot | null {
    const previous = this.snapshot;
    this.snapshot = null;
    return previous;
  }
}
