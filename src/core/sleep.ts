/** sleep waits `ms`, or less when `signal` aborts (it then resolves, never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** ReconnectBackoff spaces retries of a failing background loop: 100 ms doubling to a cap. */
export class ReconnectBackoff {
  private failures = 0;
  constructor(
    private readonly initialMs = 100,
    private readonly maxMs = 5000,
  ) {}

  /** nextDelayMs records a failure and returns how long to wait before trying again. */
  nextDelayMs(): number {
    const delay = Math.min(this.maxMs, this.initialMs * 2 ** this.failures);
    this.failures += 1;
    return Math.round(delay * (0.75 + Math.random() * 0.5));
  }

  reset(): void {
    this.failures = 0;
  }
}
