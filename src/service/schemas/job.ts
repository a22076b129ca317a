import { z } from 'zod';
import type { QueueState, QueueStats } from '../../core/index.js';
import { LIMITS, NAME_PATTERN } from '../../core/validation.js';
import { JOB_STATUSES, type Job, PRIORITY_NAMES } from '../../types/index.js';
import { DateTime, DateTimeInput } from './common.js';

/** JobStatusSchema is a job status (see docs/jobs.md). */
export const JobStatusSchema = z.enum(JOB_STATUSES).describe('Where the job stands: see docs/jobs.md');

const Priority = z
  .union([
    z.number().int().min(-LIMITS.priority).max(LIMITS.priority),
    z.enum(Object.keys(PRIORITY_NAMES) as (keyof typeof PRIORITY_NAMES)[]),
  ])
  .describe('Higher runs first: an integer, or `low` (-10), `normal` (0), `high` (10)');

/** JobSchema is a job as the API returns it; times are ISO 8601 UTC strings. */
export const JobSchema = z.object({
  id: z.guid().describe('UUIDv7: sorting by id sorts by creation'),
  queue: z.string(),
  task: z.string(),
  payload: z.unknown().describe('The payload as stored (the output of the task schema)'),
  status: JobStatusSchema,
  priority: z.number().int(),
  runAt: DateTime,
  attempt: z.number().int().describe('Attempts started so far'),
  maxAttempts: z.number().int(),
  createdAt: DateTime,
  startedAt: DateTime.nullable(),
  finishedAt: DateTime.nullable(),
  result: z.unknown().describe('What the handler returned, once completed'),
  errors: z.array(
    z.object({
      attempt: z.number().int(),
      at: z.string(),
      message: z.string(),
      name: z.string().optional(),
      stack: z.string().optional(),
    }),
  ),
  progress: z.number().nullable().describe('Fraction done, 0..1, as the handler last reported it'),
  progressMessage: z.string().nullable(),
  dedupKey: z.string().nullable(),
  concurrencyKey: z.string().nullable(),
  concurrencyLimit: z.number().int(),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  timeoutMs: z.number().int().nullable(),
  leaseOwner: z.string().nullable(),
  leaseExpiresAt: DateTime.nullable(),
  cancelRequested: z.boolean(),
  steps: z
    .array(
      z.object({
        name: z.string(),
        status: z.enum(['completed', 'failed', 'sleeping']),
        attempt: z.number().int(),
        startedAt: z.string(),
        finishedAt: z.string().nullable(),
        result: z.unknown().optional(),
        error: z.object({ message: z.string(), name: z.string().optional() }).optional(),
        wakeAt: z.string().optional(),
      }),
    )
    .describe("The job's durable steps (ctx.step, ctx.sleep) in the order they first ran"),
  dependsOn: z
    .array(z.string())
    .describe('Parent job ids it waits for; while any is unfinished it is `scheduled` with runAt 9999-01-01'),
});

/** JobBody is a job in its API form. */
export type JobBody = z.infer<typeof JobSchema>;

/** jobBody turns a stored job into its API form. */
export function jobBody(job: Job): JobBody {
  return {
    ...job,
    runAt: job.runAt.toISOString(),
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    leaseExpiresAt: job.leaseExpiresAt?.toISOString() ?? null,
  };
}

/** JobIdParams is the path of a job's routes. */
export const JobIdParams = z.object({ id: z.guid().describe('Job id (a UUID)') });

/** EnqueueBody enqueues one job of a registered task; every field but `task` and `payload` overrides the task's default. */
export const EnqueueBody = z.strictObject({
  task: z.string().describe('Name of a task registered on the server'),
  payload: z.unknown().optional().describe("Validated by the task's schema. Default: null"),
  queue: z.string().optional(),
  priority: Priority.optional(),
  runAt: DateTimeInput.optional().describe('Earliest start. Default: now'),
  delayMs: z.number().int().min(0).max(LIMITS.delayMs).optional().describe('Start no sooner than this (ignored with runAt)'),
  dedupKey: z.string().optional().describe('While a live job has this key, its job is returned (200) instead of a new one'),
  concurrencyKey: z.string().optional(),
  concurrencyLimit: z.number().int().min(1).max(LIMITS.maxAttempts).optional(),
  maxAttempts: z.number().int().min(1).max(LIMITS.maxAttempts).optional(),
  timeoutMs: z.number().int().min(1).max(LIMITS.timeoutMs).optional(),
  metadata: z.record(z.string(), z.unknown()).optional().describe('Stored with the job and filterable'),
  tags: z.array(z.string()).max(LIMITS.tags).optional(),
  dependsOn: z
    .array(z.string())
    .max(LIMITS.parents)
    .optional()
    .describe('Parent job ids: the job waits until they all completed (not with runAt or delayMs)'),
  onParentFailure: z
    .enum(['cancel', 'run'])
    .optional()
    .describe('When a parent fails for good or is cancelled: cancel this job (default) or run it anyway'),
});

/** EnqueueHeaders are the headers enqueue reads: the optional Idempotency-Key. */
export const EnqueueHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .min(1)
    .max(LIMITS.keyLength)
    .regex(/^[\x20-\x7e]+$/, 'expected printable ASCII')
    .optional()
    .describe('Stored as the dedup key: a replay yields the same job and answer (docs/api.md)'),
});

/** ListJobsQuery holds the filters of the library's listJobs, as query parameters. */
export const ListJobsQuery = z.strictObject({
  queue: z.string().optional(),
  task: z.string().optional(),
  status: z
    .union([JobStatusSchema, z.array(JobStatusSchema)])
    .optional()
    .describe('Repeat the parameter for several statuses'),
  tag: z.string().optional(),
  dedupKey: z.string().optional(),
  metadata: z
    .string()
    .optional()
    .describe('A JSON object of string, number or boolean values that the job metadata must hold, e.g. {"user_id":42}'),
  cursor: z.string().optional().describe('`nextCursor` of the previous page'),
  limit: z.coerce.number().int().min(1).max(500).optional().describe('Page size. Default: 50'),
});

/** JobPage is one page of listed jobs. */
export const JobPage = z.object({
  jobs: z.array(JobSchema).describe('Newest first'),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
});

/** NoContent is the empty answer of a delete (204). */
export const NoContent = z.null().describe('No content');

/** QueueStateSchema says whether a queue is paused. */
export const QueueStateSchema = z.object({
  queue: z.string(),
  paused: z.boolean().describe('Workers start no job of a paused queue; its jobs wait'),
  pausedAt: DateTime.nullable().describe('When it was paused; null when it is not'),
});

/** queueStateBody turns a queue state into its API form. */
export function queueStateBody(state: QueueState): z.infer<typeof QueueStateSchema> {
  return { queue: state.queue, paused: state.paused, pausedAt: state.pausedAt?.toISOString() ?? null };
}

/** QueueList counts every queue's jobs by status; paused queues are listed even without jobs. */
export const QueueList = z.object({
  queues: z.array(
    QueueStateSchema.extend({
      counts: z.record(JobStatusSchema, z.number().int()).describe('Jobs per status'),
      total: z.number().int(),
    }),
  ),
});

/** queueStatsBody turns a queue's counts and state into their API form (an entry of QueueList). */
export function queueStatsBody(stats: QueueStats): z.infer<typeof QueueList>['queues'][number] {
  return { ...queueStateBody(stats), counts: stats.counts, total: stats.total };
}

/** QueueParams is the path of a queue's routes (a name with `/` is sent percent-encoded). */
export const QueueParams = z.object({
  queue: z.string().regex(NAME_PATTERN, 'expected 1-128 characters of letters, digits and _ . : - /'),
});
