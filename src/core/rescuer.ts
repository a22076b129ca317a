import type { Logger } from 'pino';
import type { Store } from '../store/index.js';
import type { Clock } from '../types/index.js';
import type { JobyardEvents, TypedEmitter } from './events.js';
import { ReconnectBackoff, sleep } from './sleep.js';

/** RescuerOptions configure the service that recovers jobs of dead or hung workers. */
export interface RescuerOptions {
  /** How often to look for expired leases, in ms. With the default 30 s lease, a dead worker's jobs are back within about 35 s. @defaultValue 5000 */
  intervalMs?: number;
  /** Most jobs rescued per sweep. @defaultValue 1000 */
  batchSize?: number;
}

/**
 * Rescuer periodically returns running jobs whose lease expired (their worker died,
 * hung or lost the database) to the queue, counting the attempt. Every process may run
 * one; the store makes concurrent sweeps safe.
 */
export class Rescuer {
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private abort: AbortController | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly events: TypedEmitter<JobyardEvents>,
    private readonly logger: Logger,
    options: RescuerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 5000;
    this.batchSize = options.batchSize ?? 1000;
  }

  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = null;
  }

  /** sweep rescues expired jobs once and returns how many. */
  async sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      const rescued = await this.store.jobRescueExpired({ now: this.clock.now(), limit: this.batchSize });
      for (const job of rescued) {
        this.logger.warn(
          { jobId: job.id, task: job.task, attempt: job.attempt, status: job.status },
          'lease expired, job rescued',
        );
        this.events.emit('job:rescued', { job });
      }
      total += rescued.length;
      if (rescued.length < this.batchSize) return total;
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    const backoff = new ReconnectBackoff();
    while (!signal.aborted) {
      try {
        await this.sweep();
        backoff.reset();
        await sleep(this.intervalMs, signal);
      } catch (error) {
        this.events.emit('error', { error, service: 'rescuer' });
        this.logger.warn({ err: error }, 'rescuer sweep failed, retrying');
        await sleep(backoff.nextDelayMs(), signal);
      }
    }
  }
}
