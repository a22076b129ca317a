import type { JobStatus } from './job.js';

/** EVENT_TYPES are the job and schedule state changes that event records describe. */
export const EVENT_TYPES = [
  'job:enqueued',
  'job:started',
  'job:progress',
  'job:completed',
  'job:retrying',
  'job:failed',
  'job:cancelled',
  'job:released',
  'job:rescued',
  'schedule:fired',
  'schedule:missed',
  'schedule:skipped',
] as const;

/** EventType names one kind of state change (the client event of the same name). */
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * EventRecord is a compact, JSON-safe description of one job or schedule state change, as
 * `GET /api/events` streams it and as processes pass it to each other through the store.
 * A field is present only for the types that say so; times are ISO 8601 strings.
 */
export interface EventRecord {
  type: EventType;
  /** When the change happened, by the clock of the process that made it. */
  at: string;
  /** The job's id: every `job:*` type, `schedule:fired`, and `schedule:skipped` when a live job held the dedup key. */
  jobId?: string;
  /** Every `job:*` type and `schedule:fired`. */
  queue?: string;
  /** Every `job:*` type and `schedule:fired`. */
  task?: string;
  /** The job's status after the change: every `job:*` type and `schedule:fired`. */
  status?: JobStatus;
  /** The job's attempt number after the change (0 before its first start): every `job:*` type and `schedule:fired`. */
  attempt?: number;
  /** `job:progress`: the fraction done, 0..1. */
  progress?: number;
  /** `job:progress`: the handler's message, or null. */
  message?: string | null;
  /** `job:retrying`, `job:failed`, `job:rescued`: the message of the attempt's error. */
  error?: string;
  /** `job:enqueued`, `job:retrying`, `job:released`: when the job may run next. */
  runAt?: string;
  /** `job:completed`: how long the handler ran, in ms. */
  durationMs?: number;
  /** Every `schedule:*` type. */
  scheduleId?: string;
  /** Every `schedule:*` type: the fire time (the instant of the request for a manual run). */
  fireAt?: string;
  /** `schedule:fired` and `schedule:skipped`: a manual run (run now) rather than a fire time. */
  manual?: boolean;
  /** `schedule:missed` and `schedule:skipped`: why the fire time did not run. */
  reason?: string;
}
