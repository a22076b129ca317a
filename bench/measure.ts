import { setTimeout as sleep } from 'node:timers/promises';

/** BenchTimeout is thrown when a scenario runs past its time limit. */
export class BenchTimeout extends Error {
  override name = 'BenchTimeout';
}

/** within resolves with `work`, or rejects with BenchTimeout (saying `progress()`) once `deadline` (performance.now() time) passes. */
export async function within<T>(work: Promise<T>, deadline: number, progress: () => string): Promise<T> {
  const limit = new AbortController();
  const timeout = sleep(Math.max(0, deadline - performance.now()), undefined, { signal: limit.signal }).then(() => {
    throw new BenchTimeout(`time limit reached: ${progress()}`);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    limit.abort();
    timeout.catch(() => {});
  }
}

/** checkDeadline throws BenchTimeout when `deadline` has passed. */
export function checkDeadline(deadline: number, progress: () => string): void {
  if (performance.now() > deadline) throw new BenchTimeout(`time limit reached: ${progress()}`);
}

/** percentile returns the nearest-rank percentile (0..100) of already sorted values. */
export function percentile(sorted: readonly number[], rank: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((rank / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** sortedCopy returns the values in ascending order. */
export function sortedCopy(values: Iterable<number>): number[] {
  return [...values].sort((a, b) => a - b);
}

/** perSecond turns a count over a duration in ms into a rate. */
export function perSecond(count: number, elapsedMs: number): number {
  return (count * 1000) / elapsedMs;
}
