import type { Store } from '../src/index.js';

/** CallStats sums the calls of one Store method. */
export interface CallStats {
  calls: number;
  totalMs: number;
  maxMs: number;
  /** Sum of array lengths returned (jobs claimed, settled, inserted...). */
  items: number;
}

/**
 * TimedStore wraps a Store and times every method call from call to settled promise: the
 * "instrument at the port" idea of the house style, used here to see where a scenario
 * spends its store time. The overhead is two performance.now() calls per store call.
 */
export class TimedStore {
  readonly store: Store;
  private stats = new Map<string, CallStats>();

  constructor(inner: Store) {
    const record = (method: string, startedAt: number, result: unknown) => {
      const elapsed = performance.now() - startedAt;
      let entry = this.stats.get(method);
      if (!entry) {
        entry = { calls: 0, totalMs: 0, maxMs: 0, items: 0 };
        this.stats.set(method, entry);
      }
      entry.calls += 1;
      entry.totalMs += elapsed;
      entry.maxMs = Math.max(entry.maxMs, elapsed);
      if (Array.isArray(result)) entry.items += result.length;
    };
    this.store = new Proxy(inner, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function' || typeof property !== 'string' || property === 'subscribe') {
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return (...args: unknown[]) => {
          const startedAt = performance.now();
          const result = (value as (...args: unknown[]) => Promise<unknown>).apply(target, args);
          return result.then((settled) => {
            record(property, startedAt, settled);
            return settled;
          });
        };
      },
    });
  }

  /** takeSnapshot returns the stats so far, busiest method first, and starts counting afresh. */
  takeSnapshot(): [string, CallStats][] {
    const snapshot = [...this.stats.entries()].sort((a, b) => b[1].totalMs - a[1].totalMs);
    this.stats = new Map();
    return snapshot;
  }
}
