import type { Logger } from 'pino';
import type { Job } from '../types/index.js';

/** JobContext is what a handler gets beside its payload, for one attempt of one job. */
export interface JobContext<Payload = unknown> {
  /** The job as claimed for this attempt (attempt number, metadata, ...). */
  readonly job: Job<Payload>;
  /**
   * Aborts when the attempt must stop: the job was cancelled, timed out, lost its lease,
   * or the worker is shutting down past its grace period. Pass it to fetch() and friends.
   */
  readonly signal: AbortSignal;
  /** progress stores a fraction done (0..1) and an optional message on the job. */
  progress(fraction: number, message?: string): Promise<void>;
  /** heartbeat extends the job's lease now; long handlers get this automatically, call it around long blocking work. */
  heartbeat(): Promise<void>;
  /** A pino logger bound to the job's id, task and attempt. */
  readonly log: Logger;
}
