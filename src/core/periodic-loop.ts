import type { Logger } from 'pino';
import type { JobyardEvents, TypedEmitter } from './events.js';
import { ReconnectBackoff, sleep } from './sleep.js';

/**
 * PeriodicLoop runs `work` every `intervalMs` in the background until stopped. A failing
 * run is reported (an `error` event and a warning) and retried with a growing backoff, so
 * a database outage never ends the loop.
 */
export class PeriodicLoop {
  private abort: AbortController | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly service: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<unknown>,
    private readonly events: TypedEmitter<JobyardEvents>,
    private readonly logger: Logger,
  ) {}

  /** start begins the loop. Idempotent. */
  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
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
