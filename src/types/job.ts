/**
 * JobStatus is where a job stands in its life cycle.
 *
 * - `scheduled`: waiting for its `runAt` (enqueued with a delay or a dependency).
 * - `available`: ready to be claimed by a worker.
 * - `running`: claimed by a worker that holds its lease.
 * - `retryable`: an attempt failed; it runs again at `runAt`.
 * - `completed`, `failed`, `cancelled`: final states.
 */
export type JobStatus = 'scheduled' | 'available' | 'running' | 'retryable' | 'completed' | 'failed' | 'cancelled';

export const JOB_STATUSES: readonly JobStatus[] = [
  'scheduled',
  'available',
  'running',
  'retryable',
  'completed',
  'failed',
  'cancelled',
];

/** FINAL_STATUSES are the states a job never leaves by itself (only `retry` revives one). */
export const FINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

/** WAITING_STATUSES are the states a worker may claim a job from once its `runAt` has come. */
export const WAITING_STATUSES: readonly JobStatus[] = ['scheduled', 'available', 'retryable'];

/** JobErrorRecord is one failed attempt, as stored on the job. */
export interface JobErrorRecord {
  attempt: number;
  /** ISO 8601 time of the failure. */
  at: string;
  message: string;
  /** The error's class name or code, when it had one. */
  name?: string;
  stack?: string;
}

/**
 * JobStep is the record of one durable step of a job (`ctx.step`, `ctx.sleep`): a completed
 * step keeps its result, and later attempts return it instead of running the step again.
 */
export interface JobStep {
  name: string;
  /** `completed` steps are never run again; a `failed` one runs again in the next attempt; a `sleeping` one waits for `wakeAt`. */
  status: 'completed' | 'failed' | 'sleeping';
  /** The attempt that recorded this state. */
  attempt: number;
  /** ISO 8601 time the step (last) started. */
  startedAt: string;
  /** ISO 8601 time the step completed or failed; null while sleeping. */
  finishedAt: string | null;
  /** What the step returned (completed steps). */
  result?: JsonValue;
  /** Why the step failed (failed steps). */
  error?: { message: string; name?: string };
  /** ISO 8601 time a sleep ends (sleep steps). */
  wakeAt?: string;
}

/** JsonValue is anything that survives JSON.stringify and JSON.parse unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Job is one stored job record. Payload and result types flow from the task definition. */
export interface Job<Payload = unknown, Result = unknown> {
  /** UUIDv7: time-ordered, so sorting by id sorts by creation. */
  id: string;
  queue: string;
  task: string;
  payload: Payload;
  status: JobStatus;
  /** Higher runs first. `high` = 10, `normal` = 0, `low` = -10. */
  priority: number;
  runAt: Date;
  /** Attempts started so far (the running one included). */
  attempt: number;
  maxAttempts: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  result: Result | null;
  errors: JobErrorRecord[];
  /** Fraction done, 0..1, as the handler last reported it. */
  progress: number | null;
  progressMessage: string | null;
  dedupKey: string | null;
  concurrencyKey: string | null;
  /** How many jobs with the same concurrency key may run at once. */
  concurrencyLimit: number;
  tags: string[];
  metadata: Record<string, JsonValue>;
  /** Per-attempt time limit in milliseconds, or null for none. */
  timeoutMs: number | null;
  /** Worker id holding the lease while running. */
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  /** Set when a running job was asked to cancel; its worker aborts the handler. */
  cancelRequested: boolean;
  /** The job's durable steps in the order they first ran (empty for jobs without steps). */
  steps: JobStep[];
  /** Parent jobs this job waits for (empty for none); see EnqueueOptions.dependsOn. */
  dependsOn: string[];
}

/**
 * ParentFailurePolicy is what a parent that fails for good or is cancelled does to its
 * children: `cancel` them (with an error record naming the parent), or let them `run`
 * as if it had completed.
 */
export type ParentFailurePolicy = 'cancel' | 'run';

/** PRIORITY_NAMES maps the seed apps' priority names to numbers (higher runs first). */
export const PRIORITY_NAMES = { low: -10, normal: 0, high: 10 } as const;

export type PriorityName = keyof typeof PRIORITY_NAMES;
