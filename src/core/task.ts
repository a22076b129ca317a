import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Job, PriorityName } from '../types/index.js';
import type { BackoffOption } from './backoff.js';
import type { JobContext } from './job-context.js';

/** A task option that is either fixed or computed from the payload at enqueue time. */
export type FromPayload<Payload, Value> = Value | ((payload: Payload) => Value | undefined);

/** TaskHandler runs one attempt of a job; its return value (JSON) is stored as the job's result. */
export type TaskHandler<Payload, Result> = (payload: Payload, context: JobContext<Payload>) => Promise<Result> | Result;

/**
 * TaskOptions configure a task; enqueue options override the per-job ones. `Input` is what
 * enqueue accepts: the schema's input type (before defaults and transforms), else `Payload`.
 */
export interface TaskOptions<Payload, Result, Input = Payload> {
  /** Validates payloads at enqueue time; any Standard Schema (zod, valibot, arktype...). @defaultValue none: any JSON payload */
  schema?: StandardSchemaV1<Input, Payload>;
  handler: TaskHandler<Payload, Result>;
  /** Queue the task's jobs go to. @defaultValue `'default'` */
  queue?: string;
  /** Higher runs first; `'low'` = -10, `'normal'` = 0, `'high'` = 10. @defaultValue `'normal'` (0) */
  priority?: number | PriorityName;
  /** Attempts before the job fails for good (1 = no retry). @defaultValue 4 (3 retries) */
  maxAttempts?: number;
  /** Delay before each retry. @defaultValue exponential: 1 s, 2 s, 4 s... capped at 1 h, ±20% jitter */
  backoff?: BackoffOption;
  /** Per-attempt time limit in ms; the handler's signal aborts and the attempt fails with a TimeoutError. @defaultValue none */
  timeoutMs?: number;
  /** Jobs sharing a concurrency key run at most `concurrencyLimit` at a time, across all processes. @defaultValue none */
  concurrencyKey?: FromPayload<Payload, string>;
  /** How many jobs with one concurrency key may run at once. @defaultValue 1 */
  concurrencyLimit?: number;
  /** While a live job (not completed, failed or cancelled) has this key, enqueue returns it instead of a new one. @defaultValue none */
  dedupKey?: FromPayload<Payload, string>;
  /** The names of the handler's durable steps in order, so that progress reads `step 2/4: analyze`. @defaultValue none: `step 2: analyze` */
  steps?: readonly string[];
}

/** TaskDefinition is a named task with its handler and defaults; create one with `defineTask`. */
export interface TaskDefinition<Payload = unknown, Result = unknown, Input = Payload>
  extends TaskOptions<Payload, Result, Input> {
  readonly name: string;
}

/** PayloadOf extracts the payload type a task's handler gets and its stored jobs hold (the schema's output). */
export type PayloadOf<Task> = Task extends TaskDefinition<infer Payload, any, any> ? Payload : never;

/** InputOf extracts the payload type a task's enqueue accepts (the schema's input). */
export type InputOf<Task> = Task extends TaskDefinition<any, any, infer Input> ? Input : never;

/** ResultOf extracts the result type a task's handler returns. */
export type ResultOf<Task> = Task extends TaskDefinition<any, infer Result, any> ? Awaited<Result> : never;

/** JobOf is the stored job type of a task. */
export type JobOf<Task> = Job<PayloadOf<Task>, ResultOf<Task>>;

export type AnyTask = TaskDefinition<any, any>;

/**
 * defineTask names a task and binds its handler and defaults. The payload type comes from
 * `schema` (its output type) or from the handler's first parameter, and flows to `enqueue`
 * (which accepts the schema's input type, before defaults and transforms).
 */
export function defineTask<Payload = unknown, Result = unknown, Input = Payload>(
  name: string,
  options: TaskOptions<Payload, Result, Input>,
): TaskDefinition<Payload, Result, Input> {
  return { ...options, name };
}
