import { EventEmitter } from 'node:events';
import type { Job, JobErrorRecord } from '../types/index.js';

/**
 * JobyardEvents are the in-process events of a client: state changes of jobs this process
 * enqueued or ran, schedule fires its Scheduler recorded, and errors of its background
 * services. Events from other processes are not included (the service streams those): of
 * several schedulers, only the one that recorded a fire time emits its event.
 */
export interface JobyardEvents {
  'job:enqueued': { job: Job; created: boolean };
  'job:started': { job: Job };
  'job:progress': { job: Job; progress: number; message: string | null };
  'job:completed': { job: Job; result: unknown; durationMs: number };
  /** An attempt failed and the job will run again at `runAt`; `durationMs` is how long the attempt ran. */
  'job:retrying': { job: Job; error: JobErrorRecord; runAt: Date; durationMs: number };
  /** The job failed for good; `durationMs` is how long its last attempt ran. */
  'job:failed': { job: Job; error: JobErrorRecord; durationMs: number };
  'job:cancelled': { job: Job };
  /** A job was handed back without spending its attempt (shutdown, snooze). */
  'job:released': { job: Job; runAt: Date };
  /** A write of a worker that had lost the job's lease was rejected (fencing). */
  'job:stale': { job: Job; action: string };
  /** A job whose worker's lease expired was put back or failed by the rescuer. */
  'job:rescued': { job: Job };
  /** A schedule's fire time, or a manual run (runScheduleNow), enqueued `job`. */
  'schedule:fired': { scheduleId: string; fireAt: Date; manual: boolean; job: Job };
  /** A fire time came more than the schedule's misfireGraceMs late and did not run. */
  'schedule:missed': { scheduleId: string; fireAt: Date; reason: string };
  /**
   * A fire time, or a manual run, did not run: coalesced into a later one, max instances
   * reached, its dedup key held by the live job `jobId`, or its job no longer valid.
   */
  'schedule:skipped': { scheduleId: string; fireAt: Date; manual: boolean; reason: string; jobId: string | null };
  /** A background service (worker loop, rescuer, listener, scheduler) hit an error; it carries on. */
  error: { error: unknown; service: string };
}

/** TypedEmitter is an EventEmitter whose event names and payloads are checked by the compiler. */
export class TypedEmitter<Events extends { [Name in keyof Events]: unknown }> {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Many workers and SSE clients may listen to one client.
    this.emitter.setMaxListeners(0);
  }

  on<Name extends keyof Events & string>(name: Name, listener: (event: Events[Name]) => void): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }

  once<Name extends keyof Events & string>(name: Name, listener: (event: Events[Name]) => void): () => void {
    this.emitter.once(name, listener);
    return () => this.emitter.off(name, listener);
  }

  /** listenerCount tells how many listeners an event has (a way to check that subscribers clean up). */
  listenerCount<Name extends keyof Events & string>(name: Name): number {
    return this.emitter.listenerCount(name);
  }

  /** emit calls every listener; a listener that throws cannot break the engine. */
  emit<Name extends keyof Events & string>(name: Name, event: Events[Name]): void {
    for (const listener of this.emitter.listeners(name)) {
      try {
        (listener as (event: Events[Name]) => void)(event);
      } catch {
        // A faulty listener is the app's bug; the job's state is already stored.
      }
    }
  }
}
