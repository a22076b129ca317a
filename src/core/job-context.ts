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
  /** parents reads the jobs this job depends on (`dependsOn`), in that order, with their results; pruned ones are left out. */
  parents(): Promise<Job[]>;
  /**
   * step runs `fn` once per job and stores its result (JSON): when the job runs again (a
   * retry, or a rescue after a crash), a step that completed returns its stored result
   * without running, so the job continues at its first unfinished step. Names are unique
   * within a job. Progress is reported per step (`step 2/4: analyze`). The result is
   * returned as stored, after a JSON round trip (a Date comes back as a string).
   */
  step<T>(name: string, fn: () => Promise<T> | T): Promise<T>;
  /** sleep parks the job for `ms` without holding a worker slot or spending an attempt; see sleepUntil. */
  sleep(name: string, ms: number): Promise<void>;
  /**
   * sleepUntil parks the job until `wakeAt`: this attempt ends (code after the call does not
   * run now), the job's slot is freed, and at `wakeAt` the job runs again from the start;
   * its completed steps return their results and this call returns.
   */
  sleepUntil(name: string, wakeAt: Date): Promise<void>;
}
