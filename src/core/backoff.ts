/** ExponentialBackoff grows the delay by 2x per attempt: baseMs, 2*baseMs, 4*baseMs... up to maxMs. */
export interface ExponentialBackoff {
  type: 'exponential';
  /** Delay after the first failed attempt, in ms. @defaultValue 1000 */
  baseMs?: number;
  /** Upper bound of the delay, in ms. @defaultValue 3_600_000 (1 hour) */
  maxMs?: number;
  /** Random spread as a fraction of the delay (0.2 = ±20%), so failing jobs do not retry in lockstep. @defaultValue 0.2 */
  jitter?: number;
}

/** FixedBackoff waits the same delay after every failed attempt. */
export interface FixedBackoff {
  type: 'fixed';
  delayMs: number;
  /** @defaultValue 0 */
  jitter?: number;
}

/** BackoffOption sets the delay before a retry: a policy, or a function of the attempt that failed (1-based). */
export type BackoffOption = ExponentialBackoff | FixedBackoff | ((attempt: number, error: unknown) => number);

/** DEFAULT_BACKOFF is used by tasks that set no backoff. */
export const DEFAULT_BACKOFF: ExponentialBackoff = { type: 'exponential', baseMs: 1000, maxMs: 3_600_000, jitter: 0.2 };

/**
 * retryDelayMs computes the delay before the next attempt after `attempt` failed.
 * `random` is injectable so tests can pin the jitter.
 */
export function retryDelayMs(
  backoff: BackoffOption,
  attempt: number,
  error: unknown,
  random: () => number = Math.random,
): number {
  if (typeof backoff === 'function') return Math.max(0, Math.round(backoff(attempt, error)));
  const base =
    backoff.type === 'fixed'
      ? backoff.delayMs
      : Math.min(backoff.maxMs ?? 3_600_000, (backoff.baseMs ?? 1000) * 2 ** Math.max(0, attempt - 1));
  const jitter = backoff.jitter ?? (backoff.type === 'fixed' ? 0 : 0.2);
  return Math.max(0, Math.round(base * (1 + jitter * (2 * random() - 1))));
}
