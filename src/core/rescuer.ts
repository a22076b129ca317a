import type { Logger } from 'pino';
import type { Store } from '../store/index.js';
import type { Clock } from '../types/index.js';
import type { JobyardEvents, TypedEmitter } from './events.js';
import { PeriodicLoop } from './periodic-loop.js';

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
  private readonly batchSize: number;
  private readonly loop: PeriodicLoop;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly events: TypedEmitter<JobyardEvents>,
    private readonly logger: Logger,
    options: RescuerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 1000;
    this.loop = new PeriodicLoop('rescuer', options.intervalMs ?? 5000, () => this.sweep(), events, logger, clock);
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
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
}
