import type { JsonValue } from './job.js';

/**
 * Trigger says when a schedule fires. Times are ISO 8601 strings in UTC so a trigger
 * survives a JSON round trip through any store unchanged.
 *
 * - `cron`: a 5-field (minute precision) or 6-field (leading seconds) cron expression,
 *   evaluated in an IANA time zone (see docs/scheduler.md for the DST rule).
 * - `every`: every `everyMs` milliseconds, anchored at `startAt` (or at the Unix epoch, so
 *   an hourly interval fires on the hour UTC), until `endAt` inclusive.
 * - `at`: once, at `at`.
 */
export type Trigger =
  | { kind: 'cron'; expression: string; timezone: string }
  | { kind: 'every'; everyMs: number; startAt?: string; endAt?: string }
  | { kind: 'at'; at: string };

/** ScheduleJobOptions are the options of every job a schedule enqueues. */
export interface ScheduleJobOptions {
  queue?: string;
  priority?: number;
  maxAttempts?: number;
  timeoutMs?: number;
  dedupKey?: string;
  concurrencyKey?: string;
  concurrencyLimit?: number;
  tags?: string[];
  metadata?: Record<string, JsonValue>;
}

/** Schedule is one stored schedule: what to enqueue, when, and how to treat late fire times. */
export interface Schedule {
  id: string;
  name: string | null;
  task: string;
  payload: JsonValue;
  trigger: Trigger;
  /** A paused schedule does not fire; resuming it starts from the next fire time after "now". */
  paused: boolean;
  /** How late (ms after its fire time) a fire may still run; null: no limit. */
  misfireGraceMs: number | null;
  /** Collapse several due fire times into one run (the latest). */
  coalesce: boolean;
  /** At most this many of the schedule's jobs may be live (waiting or running) at once. */
  maxInstances: number;
  /** Each job's runAt is its fire time plus a random delay of up to this many ms. */
  jitterMs: number;
  jobOptions: ScheduleJobOptions;
  /**
   * Hash of the code definition last reconciled into this schedule; a restart with the same
   * definition leaves runtime edits (pause, updates) alone.
   */
  definitionHash: string | null;
  /** The next fire time (UTC); null when the trigger will not fire again. */
  nextRunAt: Date | null;
  /** The latest fire time that enqueued a job. */
  lastRunAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** ScheduleFireOutcome is what became of one fire time. */
export type ScheduleFireOutcome = 'enqueued' | 'missed' | 'skipped';

/** ScheduleFire is one fire time in a schedule's history. */
export interface ScheduleFire {
  scheduleId: string;
  fireAt: Date;
  /**
   * A manual run (runScheduleNow, fire time = the moment it was asked for). It is recorded
   * beside the trigger's fire times, so a run now at the instant of a due fire time does not
   * take that fire time's place.
   */
  manual: boolean;
  outcome: ScheduleFireOutcome;
  /**
   * The enqueued job, for `enqueued`; for a fire `skipped` because a live job held the dedup
   * key of its job options, that live job. Null otherwise.
   */
  jobId: string | null;
  /** Why a fire time was `missed` or `skipped`. */
  reason: string | null;
  recordedAt: Date;
}
