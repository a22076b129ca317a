import type { Logger } from 'pino';
import type { Clock } from '../types/index.js';
import type { JobyardEvents, TypedEmitter } from './events.js';
import { ReconnectBackoff, sleep } from './sleep.js';

/**
 * LoopLiveness tells whether a background loop (a worker's claim loop, the scheduler's fire
 * loop) runs and when it last made progress, so that a readiness check can tell a stalled
 * loop from an idle one.
 */
export interface LoopLiveness {
  /** True between start() and stop(). */
  running: boolean;
  /** When the loop last made progress, by the client's clock; its start time before its first round; null before any start. */
  lastProgressAt: Date | null;
  /** How often the loop goes round when all is well, in ms. */
  intervalMs: number;
}

/**
 * PeriodicLoop runs `work` every `intervalMs` in the background until stopped. A failing
 * run is reported (an `error` event and a warning) and retried with a growing backoff, so
 * a database outage never ends the loop.
 */
export class PeriodicLoop {
  private abort: AbortController | null = null;
  private loop: Promise<void> | null = null;
  private lastProgressAt: Date | null = null;

  constructor(
    private readonly service: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<unknown>,
    private readonly events: TypedEmitter<JobyardEvents>,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  /** liveness says whether the loop runs and when its last run succeeded (its start before the first). */
  get liveness(): LoopLiveness {
    return { running: this.loop !== null, lastProgressAt: this.lastProgressAt, intervalMs: this.intervalMs };
  }

  /** start begins the loop. Idempotent. */
  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.lastProgressAt = this.clock.now();
    this.loop = this.run(this.abort.signal);
  }

  /** stop ends the loop after the run in progress. */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = null;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const backoff = new ReconnectBackoff();
    while (!signal.aborted) {
      try {
        await this.work();
        this.lastProgressAt = this.clock.now();
        backoff.reset();
        await sleep(this.intervalMs, signal);
      } catch (error) {
        this.events.emit('error', { error, service: this.service });
        this.logger.warn({ err: error }, `${this.service} failed, retrying`);
        await sleep(backoff.nextDelayMs(), signal);
      }
    }
  }
}
