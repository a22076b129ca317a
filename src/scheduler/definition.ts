import { createHash } from 'node:crypto';
import type { AnyTask } from '../core/index.js';
import { LIMITS, OptionChecker, toJson } from '../core/validation.js';
import type { ScheduleDefinitionFields } from '../store/index.js';
import type { JsonValue, Schedule, ScheduleJobOptions } from '../types/index.js';
import { resolveTrigger, type TriggerInput } from './trigger.js';

/** ScheduleDefinition declares a schedule: which task to enqueue with what payload, and when. */
export interface ScheduleDefinition {
  /** The task each fire enqueues (registered on the client, or its name). */
  task: AnyTask | string;
  /** When it fires; validated at definition time (bad cron or zone: ValidationError naming the field). */
  trigger: TriggerInput;
  /** Payload of every job. @defaultValue null */
  payload?: unknown;
  /** Display name for status pages. @defaultValue null */
  name?: string;
  /**
   * Whether a new schedule starts paused (a schedule configured but disabled). Applies only
   * when the schedule is created: afterwards pauseSchedule/resumeSchedule decide, and a
   * restart does not undo them. @defaultValue false
   */
  paused?: boolean;
  /**
   * How late, in ms after its fire time, a fire may still run; later ones are recorded
   * `missed`. null: no limit. @defaultValue 60000
   */
  misfireGraceMs?: number | null;
  /** Run several due fire times (within grace) once, for the latest. @defaultValue true */
  coalesce?: boolean;
  /** At most this many of the schedule's jobs live at once; further fires are `skipped`. @defaultValue 1 */
  maxInstances?: number;
  /** Delay each job's runAt by a random 0..jitterMs ms (spreads load; the fire time is unchanged). @defaultValue 0 */
  jitterMs?: number;
  /** Options of each job (queue, priority, keys...), as for `enqueue`. @defaultValue the task's */
  job?: ScheduleJobOptions;
}

/** ResolvedScheduleDefinition is a validated definition in stored form, with its hash. */
export type ResolvedScheduleDefinition = ScheduleDefinitionFields;

const DEFAULT_MISFIRE_GRACE_MS = 60_000;

/**
 * resolveScheduleDefinition validates a definition (every problem in one ValidationError,
 * each naming its field) and fills in defaults. The hash covers everything but `paused`, so
 * redeclaring the same definition is recognised as unchanged.
 */
export function resolveScheduleDefinition(id: string, definition: ScheduleDefinition): ResolvedScheduleDefinition {
  const checker = new OptionChecker();
  checker.name('id', id);
  if (typeof definition !== 'object' || definition === null) checker.problem('definition', 'expected an object');
  const taskName = typeof definition?.task === 'string' ? definition.task : definition?.task?.name;
  checker.name('task', taskName ?? '');
  const trigger = resolveTrigger(definition?.trigger, 'trigger', checker.issues);
  const payload: JsonValue = toJson(definition?.payload ?? null, 'payload', checker.issues);
  if (definition?.name !== undefined && (typeof definition.name !== 'string' || definition.name.length > 200)) {
    checker.problem('name', 'expected a string of at most 200 characters');
  }
  if (definition?.paused !== undefined && typeof definition.paused !== 'boolean') checker.problem('paused', 'expected a boolean');
  if (definition?.coalesce !== undefined && typeof definition.coalesce !== 'boolean')
    checker.problem('coalesce', 'expected a boolean');
  const misfireGraceMs =
    definition?.misfireGraceMs === null
      ? null
      : (checker.integer('misfireGraceMs', definition?.misfireGraceMs, 0, LIMITS.timeoutMs) ?? DEFAULT_MISFIRE_GRACE_MS);
  const maxInstances = checker.integer('maxInstances', definition?.maxInstances, 1, 1_000_000) ?? 1;
  const jitterMs = checker.integer('jitterMs', definition?.jitterMs, 0, LIMITS.timeoutMs) ?? 0;
  const jobOptions = resolveJobOptions(definition?.job, checker);
  checker.throwIfAny(`Invalid schedule "${String(id)}"`);
  const resolved = {
    name: definition.name ?? null,
    task: taskName as string,
    payload,
    trigger: trigger as Schedule['trigger'],
    misfireGraceMs,
    coalesce: definition.coalesce ?? true,
    maxInstances,
    jitterMs,
    jobOptions,
  };
  const definitionHash = createHash('sha256').update(JSON.stringify(resolved)).digest('hex');
  return { ...resolved, paused: definition.paused ?? false, definitionHash };
}

function resolveJobOptions(options: ScheduleJobOptions | undefined, checker: OptionChecker): ScheduleJobOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    checker.problem('job', 'expected an object');
    return {};
  }
  checker.name('job.queue', options.queue);
  if (options.priority !== undefined) checker.priority('job.priority', options.priority);
  checker.integer('job.maxAttempts', options.maxAttempts, 1, LIMITS.maxAttempts);
  checker.integer('job.timeoutMs', options.timeoutMs, 1, LIMITS.timeoutMs);
  checker.key('job.dedupKey', options.dedupKey);
  checker.key('job.concurrencyKey', options.concurrencyKey);
  checker.integer('job.concurrencyLimit', options.concurrencyLimit, 1, LIMITS.maxAttempts);
  checker.tags('job.tags', options.tags);
  checker.metadata('job.metadata', options.metadata);
  return toJson(options, 'job', checker.issues) as ScheduleJobOptions;
}
