import { z } from 'zod';
import { LIMITS, NAME_PATTERN } from '../../core/validation.js';
import { describeTrigger } from '../../scheduler/index.js';
import type { Schedule, ScheduleFire } from '../../types/index.js';
import { DateTime, DateTimeInput } from './common.js';
import { JobSchema } from './job.js';

/** TriggerSchema is a stored trigger (see docs/scheduler.md). */
export const TriggerSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('cron'), expression: z.string(), timezone: z.string() }),
  z.object({ kind: z.literal('every'), everyMs: z.number().int(), startAt: z.string().optional(), endAt: z.string().optional() }),
  z.object({ kind: z.literal('at'), at: z.string() }),
]);

/** TriggerInputSchema is a trigger as a request declares it; the scheduler's own checks (cron syntax, zone, bounds) follow. */
export const TriggerInputSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('cron'),
    expression: z.string().max(200).describe('5 fields (minutes) or 6 (leading seconds)'),
    timezone: z.string().max(100).optional().describe('IANA time zone. Default: UTC'),
  }),
  z.strictObject({
    kind: z.literal('every'),
    everyMs: z.number().int().describe('Interval in ms, 1000 to 366 days'),
    startAt: DateTimeInput.optional().describe('Anchor of the interval. Default: the Unix epoch'),
    endAt: DateTimeInput.optional().describe('Last possible fire time'),
  }),
  z.strictObject({ kind: z.literal('at'), at: DateTimeInput }),
]);

/** ScheduleJobOptionsSchema holds the options of every job a schedule enqueues. */
const ScheduleJobOptionsSchema = z
  .strictObject({
    queue: z.string().optional(),
    priority: z.number().int().min(-LIMITS.priority).max(LIMITS.priority).optional(),
    maxAttempts: z.number().int().min(1).max(LIMITS.maxAttempts).optional(),
    timeoutMs: z.number().int().min(1).max(LIMITS.timeoutMs).optional(),
    dedupKey: z.string().optional(),
    concurrencyKey: z.string().optional(),
    concurrencyLimit: z.number().int().min(1).max(LIMITS.maxAttempts).optional(),
    tags: z.array(z.string()).max(LIMITS.tags).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .describe("Options of every job it enqueues. Default: the task's");

/** The definition fields a create sets and an update may change (see docs/scheduler.md for each). */
const scheduleDefinitionFields = {
  payload: z.unknown().optional().describe("Payload of every job, validated by the task's schema. Default: null"),
  name: z.string().max(200).optional().describe('Display name'),
  misfireGraceMs: z
    .number()
    .int()
    .min(0)
    .max(LIMITS.timeoutMs)
    .nullable()
    .optional()
    .describe('How late a fire time may still run, in ms; null: no limit. Default: 60000'),
  coalesce: z.boolean().optional().describe('Run several due fire times once. Default: true'),
  maxInstances: z.number().int().min(1).max(1_000_000).optional().describe('Most live jobs at once. Default: 1'),
  jitterMs: z.number().int().min(0).max(LIMITS.timeoutMs).optional().describe('Random delay of each job. Default: 0'),
  job: ScheduleJobOptionsSchema.optional(),
};

/** CreateScheduleBody creates a schedule of a registered task. */
export const CreateScheduleBody = z.strictObject({
  id: z.string().regex(NAME_PATTERN, 'expected 1-128 characters of letters, digits and _ . : - /'),
  task: z.string().describe('Name of a task registered on the server'),
  trigger: TriggerInputSchema,
  paused: z.boolean().optional().describe('Create it paused. Default: false'),
  ...scheduleDefinitionFields,
});

/** UpdateScheduleBody changes a schedule's definition; fields left out keep their values. */
export const UpdateScheduleBody = z.strictObject({
  trigger: TriggerInputSchema.optional().describe('A new trigger restarts from its first fire time after now'),
  ...scheduleDefinitionFields,
});

/** ScheduleSchema is a schedule as the API returns it, with its trigger described for status pages. */
export const ScheduleSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  task: z.string(),
  payload: z.unknown(),
  trigger: TriggerSchema,
  description: z.string().describe("The trigger in APScheduler's words, e.g. cron[hour='2', minute='0']"),
  paused: z.boolean(),
  misfireGraceMs: z.number().int().nullable(),
  coalesce: z.boolean(),
  maxInstances: z.number().int(),
  jitterMs: z.number().int(),
  jobOptions: z.record(z.string(), z.unknown()),
  nextRunAt: DateTime.nullable().describe('Next fire time; null when the trigger will not fire again'),
  lastRunAt: DateTime.nullable(),
  createdAt: DateTime,
  updatedAt: DateTime,
});

/** ScheduleBody is a schedule in its API form. */
export type ScheduleBody = z.infer<typeof ScheduleSchema>;

/** scheduleBody turns a stored schedule into its API form. */
export function scheduleBody(schedule: Schedule): ScheduleBody {
  const { definitionHash: _internal, ...fields } = schedule;
  return {
    ...fields,
    jobOptions: { ...schedule.jobOptions },
    description: describeTrigger(schedule.trigger),
    nextRunAt: schedule.nextRunAt?.toISOString() ?? null,
    lastRunAt: schedule.lastRunAt?.toISOString() ?? null,
    createdAt: schedule.createdAt.toISOString(),
    updatedAt: schedule.updatedAt.toISOString(),
  };
}

/** ScheduleFireSchema is one fire time of a schedule's history. */
export const ScheduleFireSchema = z.object({
  scheduleId: z.string(),
  fireAt: DateTime,
  manual: z.boolean().describe('A run now, beside the trigger’s fire times'),
  outcome: z.enum(['enqueued', 'missed', 'skipped']),
  jobId: z.string().nullable(),
  reason: z.string().nullable().describe('Why a fire time was missed or skipped'),
  recordedAt: DateTime,
});

/** fireBody turns a fire record into its API form. */
export function fireBody(fire: ScheduleFire): z.infer<typeof ScheduleFireSchema> {
  return { ...fire, fireAt: fire.fireAt.toISOString(), recordedAt: fire.recordedAt.toISOString() };
}

/** ScheduleIdParams is the path of a schedule's routes; ids have the shape of names. */
export const ScheduleIdParams = z.object({
  id: z.string().regex(NAME_PATTERN, 'expected 1-128 characters of letters, digits and _ . : - /'),
});

/** ScheduleList lists schedules by id. */
export const ScheduleList = z.object({ schedules: z.array(ScheduleSchema) });

/** ScheduleRun is what a run now recorded and enqueued. */
export const ScheduleRun = z.object({
  fire: ScheduleFireSchema.nullable(),
  job: JobSchema.nullable().describe('The job enqueued; null when the fire was skipped (max instances, dedup key)'),
});

/** HistoryQuery bounds a schedule's history. */
export const HistoryQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).optional().describe('Most records. Default: 100'),
});

/** ScheduleHistory is a schedule's fire times, latest first. */
export const ScheduleHistory = z.object({ fires: z.array(ScheduleFireSchema).describe('Latest fire time first') });

/** PreviewBody asks for the next fire times of a trigger. */
export const PreviewBody = z.strictObject({
  trigger: TriggerInputSchema,
  count: z.number().int().min(1).max(100).default(5).describe('How many fire times'),
  from: DateTimeInput.optional().describe('Fire times after this instant. Default: now'),
});

/** Preview is a trigger as it would be stored, its description and its next fire times. */
export const Preview = z.object({
  trigger: TriggerSchema.describe('The trigger as it would be stored'),
  description: z.string(),
  fireTimes: z.array(
    z.object({
      at: DateTime,
      local: z.string().describe("The same instant in the trigger's time zone (UTC for every/at), with its offset"),
    }),
  ),
});
