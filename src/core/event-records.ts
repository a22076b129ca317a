import type { Clock, EventRecord, EventType, Job } from '../types/index.js';
import { EVENT_TYPES } from '../types/index.js';
import type { JobyardEvents, TypedEmitter } from './events.js';

/**
 * Longest message, error or reason a record carries, in characters: a record must fit in
 * one PostgreSQL notification (under 8000 bytes) with room to spare.
 */
const MAX_TEXT_LENGTH = 1000;

/** RecordBuilders turn each client event that is a state change into its record (`at` added by the caller). */
const RECORD_BUILDERS: { [Type in EventType]: (event: JobyardEvents[Type]) => Omit<EventRecord, 'at'> | null } = {
  // A dedup hit changed nothing: the live job's own events tell its story.
  'job:enqueued': ({ job, created }) => (created ? { ...jobFields('job:enqueued', job), runAt: job.runAt.toISOString() } : null),
  'job:started': ({ job }) => jobFields('job:started', job),
  'job:progress': ({ job, progress, message }) => ({
    ...jobFields('job:progress', job),
    progress,
    message: message === null ? null : clip(message),
  }),
  'job:completed': ({ job, durationMs }) => ({ ...jobFields('job:completed', job), durationMs: Math.round(durationMs) }),
  'job:retrying': ({ job, error, runAt }) => ({
    ...jobFields('job:retrying', job),
    error: clip(error.message),
    runAt: runAt.toISOString(),
  }),
  'job:failed': ({ job, error }) => ({ ...jobFields('job:failed', job), error: clip(error.message) }),
  'job:cancelled': ({ job }) => jobFields('job:cancelled', job),
  'job:released': ({ job, runAt }) => ({ ...jobFields('job:released', job), runAt: runAt.toISOString() }),
  'job:rescued': ({ job }) => {
    const error = job.errors[job.errors.length - 1];
    return error === undefined ? jobFields('job:rescued', job) : { ...jobFields('job:rescued', job), error: clip(error.message) };
  },
  'schedule:fired': ({ scheduleId, fireAt, manual, job }) => ({
    ...jobFields('schedule:fired', job),
    scheduleId,
    fireAt: fireAt.toISOString(),
    manual,
  }),
  'schedule:missed': ({ scheduleId, fireAt, reason }) => ({
    type: 'schedule:missed',
    scheduleId,
    fireAt: fireAt.toISOString(),
    reason: clip(reason),
  }),
  'schedule:skipped': ({ scheduleId, fireAt, manual, reason, jobId }) => ({
    type: 'schedule:skipped',
    ...(jobId === null ? {} : { jobId }),
    scheduleId,
    fireAt: fireAt.toISOString(),
    manual,
    reason: clip(reason),
  }),
};

/**
 * onEventRecords calls `listener` with the record of every state change the client's
 * `events` emit, timed by `clock`. Returns a function that stops it.
 */
export function onEventRecords(
  events: TypedEmitter<JobyardEvents>,
  clock: Clock,
  listener: (record: EventRecord) => void,
): () => void {
  const stops = EVENT_TYPES.map((type) =>
    events.on(type, (event) => {
      const record = (RECORD_BUILDERS[type] as (event: JobyardEvents[typeof type]) => Omit<EventRecord, 'at'> | null)(event);
      // `type` and `at` first: they lead each record where people read them (the SSE stream).
      if (record !== null) listener(Object.assign({ type: record.type, at: clock.now().toISOString() }, record));
    }),
  );
  return () => {
    for (const stop of stops) stop();
  };
}

function jobFields(type: EventType, job: Job): Omit<EventRecord, 'at'> {
  return { type, jobId: job.id, queue: job.queue, task: job.task, status: job.status, attempt: job.attempt };
}

function clip(text: string): string {
  return text.length > MAX_TEXT_LENGTH ? `${text.slice(0, MAX_TEXT_LENGTH - 3)}...` : text;
}
