import { type Logger, pino } from 'pino';
import { uuidv7 } from 'uuidv7';
import {
  ClientClosedError,
  InvalidStateError,
  JobNotFoundError,
  UnknownTaskError,
  ValidationError,
  type ValidationIssue,
} from '../errors/index.js';
import { type JobInsert, type JobInsertResult, PARENTS_PENDING_RUN_AT, type Store } from '../store/index.js';
import {
  type Clock,
  type EventRecord,
  FINAL_STATUSES,
  JOB_STATUSES,
  type Job,
  type JobStatus,
  type JsonValue,
  type ParentFailurePolicy,
  type PriorityName,
  systemClock,
} from '../types/index.js';
import { Batcher } from './batcher.js';
import { EventPublisher } from './event-publisher.js';
import { onEventRecords } from './event-records.js';
import { type JobyardEvents, TypedEmitter } from './events.js';
import { Rescuer, type RescuerOptions } from './rescuer.js';
import type { AnyTask, FromPayload, InputOf, JobOf, PayloadOf, TaskDefinition } from './task.js';
import {
  activeTraceContext,
  recordError,
  setEnqueuedJob,
  startEnqueueSpan,
  TRACE_CONTEXT_METADATA_KEY,
  type TraceContext,
  traceContextOf,
} from './tracing.js';
import { assertJobId, LIMITS, OptionChecker, toJson, validateWithSchema } from './validation.js';
import { Worker, type WorkerOptions } from './worker.js';

/** JobyardOptions configure a client. */
export interface JobyardOptions {
  /** Where jobs live: `createSqliteStore(...)` or `createPostgresStore(...)`. The client closes it on `close()`. */
  store: Store;
  /** Tasks this client can enqueue by name and run. @defaultValue [] */
  tasks?: AnyTask[];
  /** Source of "now"; tests inject a fake one. @defaultValue the system clock */
  clock?: Clock;
  /** pino logger for workers and services. @defaultValue pino at level `JOBYARD_LOG_LEVEL` or `'warn'` */
  logger?: Logger;
  /** Settings of the lease rescuer that `start()` runs. */
  rescuer?: RescuerOptions;
  /**
   * Publish this client's job and schedule events through the store, so that `watchEvents`
   * (and so `GET /api/events`) in other processes sees them. Only stores with
   * `crossProcessNotify` (PostgreSQL) carry them; on others the option does nothing. Turn it
   * on in every process whose events a service should stream (`jobyard serve` and
   * `jobyard worker` do); it costs one NOTIFY per interval while events happen.
   * @defaultValue false
   */
  publishEvents?: boolean;
  /** How long published events gather into one batch (one NOTIFY), in ms, 1..10000. @defaultValue 25 */
  publishEventsIntervalMs?: number;
}

/** EnqueueOptions override a task's defaults for one job. */
export interface EnqueueOptions {
  /** Queue to put the job in. @defaultValue the task's queue, else `'default'` */
  queue?: string;
  /** Earliest start time. @defaultValue now */
  runAt?: Date | string;
  /** Start no sooner than this many ms from now (ignored when runAt is set). @defaultValue 0 */
  delayMs?: number;
  /** Higher runs first (integer -1000..1000, or `'low'`/`'normal'`/`'high'`). @defaultValue the task's, else 0 */
  priority?: number | PriorityName;
  /** See TaskOptions.dedupKey. @defaultValue the task's, else none */
  dedupKey?: string;
  /** See TaskOptions.concurrencyKey. @defaultValue the task's, else none */
  concurrencyKey?: string;
  /** @defaultValue the task's, else 1 */
  concurrencyLimit?: number;
  /** @defaultValue the task's, else 4 */
  maxAttempts?: number;
  /** @defaultValue the task's, else none */
  timeoutMs?: number;
  /**
   * Parent job ids: the job waits (`scheduled`, its runAt PARENTS_PENDING_RUN_AT) until all
   * of them completed, then runs at once; it cannot also have `runAt` or `delayMs`. Unknown
   * ids are refused (ValidationError), and so is a parent that already failed or was
   * cancelled when the job would be cancelled for it (InvalidStateError). @defaultValue none
   */
  dependsOn?: string[];
  /** What a parent that fails for good or is cancelled does to the job: `'cancel'` it (recording why) or let it `'run'`. @defaultValue `'cancel'` */
  onParentFailure?: ParentFailurePolicy;
  /** JSON object stored with the job and filterable (e.g. `{ user_id, project_id }`). @defaultValue {} */
  metadata?: Record<string, unknown>;
  /** Labels to filter jobs by. @defaultValue [] */
  tags?: string[];
  /**
   * A store-specific transaction handle to enqueue inside (PostgreSQL: a `pg` client after
   * BEGIN): the job commits or rolls back with the caller's rows. @defaultValue none
   */
  transaction?: unknown;
}

/** FlowJob is one job of `enqueueFlow`: `key` names it within the flow, and `options.dependsOn` may name other keys. */
export interface FlowJob {
  key: string;
  task: AnyTask | string;
  payload?: unknown;
  options?: Omit<EnqueueOptions, 'transaction'>;
}

/** EnqueueResult is the job and whether it is new (false: a live job with the dedup key already existed). */
export interface EnqueueResult<Payload = unknown, Result = unknown> {
  job: Job<Payload, Result>;
  created: boolean;
}

/** ListJobsOptions filter and page `listJobs`. */
export interface ListJobsOptions {
  queue?: string;
  task?: string;
  status?: JobStatus | JobStatus[];
  /** Jobs whose metadata has all these fields with these values. */
  metadata?: Record<string, string | number | boolean>;
  tag?: string;
  dedupKey?: string;
  /** `nextCursor` of the previous page. @defaultValue first page */
  cursor?: string;
  /** Page size, 1..500. @defaultValue 50 */
  limit?: number;
}

/** QueueStats counts one queue's jobs by status and says whether the queue is paused. */
export interface QueueStats {
  queue: string;
  counts: Record<JobStatus, number>;
  total: number;
  /** Workers take no jobs from a paused queue (see pauseQueue). */
  paused: boolean;
  /** When the queue was paused; null when it is not. */
  pausedAt: Date | null;
}

/** QueueState is whether one queue is paused, as pauseQueue and resumeQueue leave it. */
export interface QueueState {
  queue: string;
  paused: boolean;
  pausedAt: Date | null;
}

/** PruneOptions select finished jobs to delete. */
export interface PruneOptions {
  /** Delete jobs finished before this date, or more than this many ms ago. */
  olderThan: Date | number;
  /** Which final statuses to delete. @defaultValue completed, failed and cancelled */
  statuses?: JobStatus[];
}

const DEFAULT_MAX_ATTEMPTS = 4;
const INSERT_BATCH = 1000;

/**
 * Jobyard is the client: it enqueues, queries and steers jobs, and starts workers. Delivery
 * is at least once: a job whose worker dies is run again after its lease expires.
 */
export class Jobyard {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  /** In-process job events; see JobyardEvents. */
  readonly events = new TypedEmitter<JobyardEvents>();
  private readonly tasks = new Map<string, AnyTask>();
  private readonly runningWorkers = new Set<Worker>();
  private readonly rescuer: Rescuer;
  private readonly insertBatcher: Batcher<JobInsert, JobInsertResult>;
  /** Sends this client's event records to other processes; null unless publishEvents is on and the store carries them. */
  private readonly eventPublisher: EventPublisher | null = null;
  private closed = false;

  constructor(options: JobyardOptions) {
    const checker = new OptionChecker();
    if (options.publishEvents !== undefined && typeof options.publishEvents !== 'boolean') {
      checker.problem('publishEvents', 'expected a boolean');
    }
    const publishIntervalMs = checker.integer('publishEventsIntervalMs', options.publishEventsIntervalMs, 1, 10_000) ?? 25;
    checker.throwIfAny('Invalid client options');
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? pino({ name: 'jobyard', level: process.env.JOBYARD_LOG_LEVEL ?? 'warn' });
    for (const task of options.tasks ?? []) this.register(task);
    this.rescuer = new Rescuer(this.store, this.clock, this.events, this.logger, options.rescuer);
    this.insertBatcher = new Batcher((jobs) => this.store.jobInsertMany({ jobs }), INSERT_BATCH);
    if (options.publishEvents && this.store.capabilities.crossProcessNotify) {
      this.eventPublisher = new EventPublisher(this.store, publishIntervalMs, this.logger, (listener) =>
        onEventRecords(this.events, this.clock, listener),
      );
    }
  }

  /** register adds a task so it can be enqueued by name and run by this client's workers. */
  register(task: AnyTask): void {
    const checker = new OptionChecker();
    checker.name('name', task.name);
    if (typeof task.handler !== 'function') checker.problem('handler', 'expected a function');
    checker.name('queue', task.queue);
    if (task.priority !== undefined) checker.priority('priority', task.priority);
    checker.integer('maxAttempts', task.maxAttempts, 1, LIMITS.maxAttempts);
    checker.integer('timeoutMs', task.timeoutMs, 1, LIMITS.timeoutMs);
    checker.integer('concurrencyLimit', task.concurrencyLimit, 1, LIMITS.maxAttempts);
    checker.backoff('backoff', task.backoff);
    checker.throwIfAny(`Invalid task definition "${String(task.name)}"`);
    if (this.tasks.has(task.name) && this.tasks.get(task.name) !== task) {
      throw new ValidationError(`Task "${task.name}" is already registered with another definition`);
    }
    this.tasks.set(task.name, task);
  }

  /** task returns the registered task of that name, or throws UnknownTaskError. */
  task(name: string): AnyTask {
    const task = this.tasks.get(name);
    if (!task) throw new UnknownTaskError(name);
    return task;
  }

  /** taskNames lists the registered tasks. */
  taskNames(): string[] {
    return [...this.tasks.keys()];
  }

  /**
   * enqueue validates the payload and options and stores one job. With a dedup key held by
   * a live job, that job is returned with `created: false`. Concurrent calls share one
   * transaction; each resolves only after its job is committed.
   */
  async enqueue<Task extends TaskDefinition<any, any>>(
    task: Task,
    payload: InputOf<Task>,
    options?: EnqueueOptions,
  ): Promise<EnqueueResult<PayloadOf<Task>, Awaited<ReturnType<Task['handler']>>>>;
  async enqueue(task: string, payload: unknown, options?: EnqueueOptions): Promise<EnqueueResult>;
  async enqueue(task: AnyTask | string, payload: unknown, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    this.assertOpen();
    const definition = this.resolveTask(task);
    const span = startEnqueueSpan(definition.name);
    try {
      const insert = await this.prepareInsert(definition, payload, options, 'payload', traceContextOf(span));
      let result: JobInsertResult;
      // insertHandingOff announces the job itself, before a worker of this process starts it.
      if (options.transaction === undefined) result = await this.insertHandingOff(insert);
      else {
        result = (await this.store.jobInsertMany({ jobs: [insert], transaction: options.transaction }))[0] as JobInsertResult;
        this.afterInsert([result]);
      }
      setEnqueuedJob(span, result.job, result.created);
      return result;
    } catch (error) {
      recordError(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  /**
   * insertHandingOff inserts a job through the group-commit batcher. When a worker of this
   * client is idle for the job's queue, the job is inserted already leased to it and starts
   * as soon as it is committed, without a claim round trip (see Worker.reserveSlot).
   */
  private async insertHandingOff(insert: JobInsert): Promise<JobInsertResult> {
    const handOff = insert.status === 'available' && insert.concurrencyKey === null ? this.reserveIdleWorker(insert.queue) : null;
    if (!handOff) {
      const result = await this.insertBatcher.add(insert);
      this.afterInsert([result]);
      return result;
    }
    const { worker, lease } = handOff;
    let result: JobInsertResult | undefined;
    try {
      result = await this.insertBatcher.add({ ...insert, lease });
      // Before adopt(): the job's `job:started` must not come before its `job:enqueued`.
      this.afterInsert([result]);
      return result;
    } finally {
      worker.adopt(result?.leaseToken === undefined ? null : { job: result.job, leaseToken: result.leaseToken });
    }
  }

  /**
   * enqueueMany stores many jobs of one task in one transaction: all or none. Invalid
   * payloads raise one ValidationError naming each bad index; nothing is inserted.
   */
  async enqueueMany<Task extends TaskDefinition<any, any>>(
    task: Task | string,
    payloads: InputOf<Task>[],
    options: EnqueueOptions = {},
  ): Promise<EnqueueResult<PayloadOf<Task>, Awaited<ReturnType<Task['handler']>>>[]> {
    this.assertOpen();
    if (!Array.isArray(payloads)) throw new ValidationError('payloads must be an array');
    const definition = this.resolveTask(task);
    // One span for the batch: every job carries its context.
    const span = startEnqueueSpan(definition.name);
    try {
      const traceContext = traceContextOf(span);
      const inserts: JobInsert[] = [];
      const issues = [];
      for (const [index, payload] of payloads.entries()) {
        try {
          inserts.push(await this.prepareInsert(definition, payload, options, `payloads.${index}`, traceContext));
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          issues.push(...error.issues);
          if (issues.length >= 100) break;
        }
      }
      if (issues.length > 0) throw new ValidationError('Invalid jobs, none enqueued', issues);
      if (span.isRecording()) span.setAttribute('messaging.batch.message_count', inserts.length);
      if (inserts.length === 0) return [];
      const results = await this.store.jobInsertMany({ jobs: inserts, transaction: options.transaction });
      this.afterInsert(results);
      return results as EnqueueResult<PayloadOf<Task>, Awaited<ReturnType<Task['handler']>>>[];
    } catch (error) {
      recordError(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  /**
   * enqueueFlow stores a graph of jobs in one transaction: all or none. Each job has a
   * `key` of its own within the flow; its `options.dependsOn` may name keys of the flow and
   * ids of stored jobs. A cycle, an unknown key or an invalid job raises one
   * ValidationError and nothing is inserted. Resolves with each key's result.
   */
  async enqueueFlow(jobs: FlowJob[], options: { transaction?: unknown } = {}): Promise<Record<string, EnqueueResult>> {
    this.assertOpen();
    if (!Array.isArray(jobs) || jobs.length === 0 || jobs.length > INSERT_BATCH) {
      throw new ValidationError('Invalid flow', [{ path: 'jobs', message: `expected an array of 1 to ${INSERT_BATCH} jobs` }]);
    }
    const ids = new Map<string, string>();
    for (const [index, job] of jobs.entries()) {
      const key = (job as Partial<FlowJob> | null)?.key;
      if (typeof key !== 'string' || key.length === 0 || key.length > LIMITS.keyLength || ids.has(key)) {
        throw new ValidationError('Invalid flow', [{ path: `jobs.${index}.key`, message: 'expected a unique non-empty string' }]);
      }
      ids.set(key, uuidv7());
    }
    assertAcyclic(jobs, ids);
    const inserts: JobInsert[] = [];
    const issues: ValidationIssue[] = [];
    // The flow's jobs join the trace of the caller's span, when one records.
    const traceContext = activeTraceContext();
    for (const [index, job] of jobs.entries()) {
      const dependsOn = job.options?.dependsOn?.map((parent) => ids.get(parent) ?? parent);
      try {
        const task = this.resolveTask(job.task);
        const jobOptions = { ...job.options, ...(dependsOn ? { dependsOn } : {}) };
        inserts.push(
          await this.prepareInsert(task, job.payload, jobOptions, `jobs.${index}.payload`, traceContext, ids.get(job.key)),
        );
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        issues.push(
          ...error.issues.map((issue) => ({
            ...issue,
            path: issue.path.startsWith('jobs.') ? issue.path : `jobs.${index}.${issue.path}`,
          })),
        );
      }
    }
    if (issues.length > 0) throw new ValidationError('Invalid flow, nothing enqueued', issues);
    const results = await this.store.jobInsertMany({ jobs: inserts, transaction: options.transaction });
    this.afterInsert(results);
    return Object.fromEntries(jobs.map((job, index) => [job.key, results[index] as EnqueueResult]));
  }

  /** getJob returns a job by id, or null when there is none. Throws ValidationError for a malformed id. */
  async getJob<Task extends AnyTask = AnyTask>(id: string): Promise<JobOf<Task> | null> {
    assertJobId(id);
    return (await this.store.jobGet({ id })) as JobOf<Task> | null;
  }

  /** listJobs lists jobs newest first; pass `nextCursor` back as `cursor` for the next page. */
  async listJobs(options: ListJobsOptions = {}): Promise<{ jobs: Job[]; nextCursor: string | null }> {
    const checker = new OptionChecker();
    const statuses = options.status === undefined ? undefined : [options.status].flat();
    if (statuses?.some((status) => !JOB_STATUSES.includes(status))) {
      checker.problem('status', `expected statuses among ${JOB_STATUSES.join(', ')}`);
    }
    checker.name('queue', options.queue);
    checker.name('task', options.task);
    checker.key('tag', options.tag);
    checker.key('dedupKey', options.dedupKey);
    const limit = checker.integer('limit', options.limit, 1, 500) ?? 50;
    if (options.cursor !== undefined) {
      try {
        assertJobId(options.cursor);
      } catch {
        checker.problem('cursor', 'expected a cursor returned by a previous page');
      }
    }
    if (options.metadata !== undefined) {
      const valid =
        typeof options.metadata === 'object' &&
        options.metadata !== null &&
        Object.values(options.metadata).every((value) => ['string', 'number', 'boolean'].includes(typeof value));
      if (!valid) checker.problem('metadata', 'expected an object of string, number or boolean values');
    }
    checker.throwIfAny('Invalid job filter');
    return this.store.jobList({
      filter: {
        queue: options.queue,
        task: options.task,
        status: statuses,
        metadata: options.metadata,
        tag: options.tag,
        dedupKey: options.dedupKey,
      },
      after: options.cursor,
      limit,
    });
  }

  /**
   * cancel stops a job. A waiting job is cancelled at once; a running one is asked to stop:
   * its handler's signal aborts (in whichever process runs it) and it ends `cancelled`.
   * Throws InvalidStateError for a finished job and JobNotFoundError for an unknown id.
   */
  async cancel(id: string): Promise<Job> {
    assertJobId(id);
    const outcome = await this.store.jobCancel({ id, now: this.clock.now() });
    if (!outcome) throw new JobNotFoundError(id);
    if (outcome.outcome === 'final') {
      throw new InvalidStateError(`Job ${id} is ${outcome.job.status} and cannot be cancelled`, outcome.job.status);
    }
    for (const worker of this.runningWorkers) worker.abortIfRunning(id);
    if (outcome.outcome === 'cancelled') this.events.emit('job:cancelled', { job: outcome.job });
    return outcome.job;
  }

  /**
   * retry runs a failed or cancelled job again (its error history is kept). Throws
   * InvalidStateError for any other status and JobNotFoundError for an unknown id.
   */
  async retry(id: string): Promise<Job> {
    assertJobId(id);
    const outcome = await this.store.jobRetry({ id, now: this.clock.now() });
    if (!outcome) throw new JobNotFoundError(id);
    if (!outcome.applied) {
      throw new InvalidStateError(
        `Job ${id} is ${outcome.job.status}; only failed or cancelled jobs can be retried`,
        outcome.job.status,
      );
    }
    this.wakeWorkers(outcome.job.queue);
    return outcome.job;
  }

  /**
   * deleteJob deletes a finished job (completed, failed or cancelled) and returns it as it
   * was. Throws InvalidStateError for a job in any other status (cancel it first) and
   * JobNotFoundError for an unknown id.
   */
  async deleteJob(id: string): Promise<Job> {
    assertJobId(id);
    const outcome = await this.store.jobDelete({ id });
    if (!outcome) throw new JobNotFoundError(id);
    if (!outcome.deleted) {
      throw new InvalidStateError(
        `Job ${id} is ${outcome.job.status}; only completed, failed or cancelled jobs can be deleted`,
        outcome.job.status,
      );
    }
    return outcome.job;
  }

  /**
   * watchEvents calls `listener` with a record of every job and schedule state change of
   * this client and, through the store, of the clients of other processes that publish
   * theirs (`publishEvents`, PostgreSQL only). Best effort and at most once: records of other
   * processes are lost while the store's listener is disconnected, and their order relative
   * to this process's own records is the order they arrive in. Resolves, once records
   * published from then on reach the listener, with a function that stops the watch.
   */
  async watchEvents(listener: (record: EventRecord) => void): Promise<() => void> {
    this.assertOpen();
    const stopLocal = onEventRecords(this.events, this.clock, listener);
    const stopRemote = this.store.subscribe(
      (notification) => {
        if (notification.type !== 'events') return;
        for (const record of notification.events) listener(record);
      },
      { events: true },
    );
    const stop = () => {
      stopLocal();
      stopRemote();
    };
    try {
      await this.store.whenSubscribed();
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  /**
   * queueStats counts jobs by queue and status, and lists paused queues (a paused queue
   * without jobs too), by queue name.
   */
  async queueStats(): Promise<QueueStats[]> {
    const [rows, pauses] = await Promise.all([this.store.queueStats(), this.store.queuePauses()]);
    const byQueue = new Map<string, QueueStats>();
    const statsOf = (queue: string): QueueStats => {
      let stats = byQueue.get(queue);
      if (!stats) {
        const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
        stats = { queue, counts, total: 0, paused: false, pausedAt: null };
        byQueue.set(queue, stats);
      }
      return stats;
    };
    for (const row of rows) {
      const stats = statsOf(row.queue);
      stats.counts[row.status] += row.count;
      stats.total += row.count;
    }
    for (const { queue, pausedAt } of pauses) Object.assign(statsOf(queue), { paused: true, pausedAt });
    return [...byQueue.values()].sort((a, b) => a.queue.localeCompare(b.queue));
  }

  /**
   * pauseQueue stops every worker, in every process, from starting jobs of the queue until
   * resumeQueue; jobs already running finish, waiting ones stay, new ones can still be
   * enqueued. A claim in flight when the pause commits may still start a few. Pausing a
   * paused queue keeps its first pausedAt.
   */
  async pauseQueue(queue: string): Promise<QueueState> {
    this.assertQueueName(queue);
    const { pausedAt } = await this.store.queuePause({ queue, now: this.clock.now() });
    return { queue, paused: true, pausedAt };
  }

  /** resumeQueue lets workers take the queue's jobs again (they hear of it at once); a no-op for a queue that is not paused. */
  async resumeQueue(queue: string): Promise<QueueState> {
    this.assertQueueName(queue);
    await this.store.queueResume({ queue });
    return { queue, paused: false, pausedAt: null };
  }

  /** prune deletes finished jobs older than a cutoff (e.g. 30 days) and returns how many. */
  async prune(options: PruneOptions): Promise<number> {
    const checker = new OptionChecker();
    const olderThan =
      typeof options?.olderThan === 'number'
        ? new Date(this.clock.now().getTime() - (checker.integer('olderThan', options.olderThan, 0, LIMITS.delayMs) ?? 0))
        : checker.date('olderThan', options?.olderThan);
    if (olderThan === undefined && options?.olderThan === undefined) checker.problem('olderThan', 'required');
    const statuses = options?.statuses ?? [...FINAL_STATUSES];
    if (!Array.isArray(statuses) || statuses.length === 0 || statuses.some((status) => !FINAL_STATUSES.includes(status))) {
      checker.problem('statuses', `expected a non-empty list among ${FINAL_STATUSES.join(', ')}`);
    }
    checker.throwIfAny('Invalid prune options');
    return this.store.jobPrune({ olderThan: olderThan as Date, statuses });
  }

  /** workers lists the workers this client started and has not stopped (`stop()` ends them all). */
  get workers(): readonly Worker[] {
    return [...this.runningWorkers];
  }

  /**
   * start runs a worker for the given queues in this process (and the lease rescuer, once
   * per client) and returns it. Call it several times for several queue sets.
   */
  async start(options: WorkerOptions = {}): Promise<Worker> {
    this.assertOpen();
    const worker = new Worker(this, this.store, options);
    this.runningWorkers.add(worker);
    await worker.start();
    this.rescuer.start();
    return worker;
  }

  /**
   * stop stops claiming, lets running jobs finish for up to `graceMs`, then aborts the rest
   * and hands them back to the queue without spending their attempt.
   */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    await Promise.all([...this.runningWorkers].map((worker) => worker.stop(options)));
    this.runningWorkers.clear();
    await this.rescuer.stop();
  }

  /** close stops everything (see stop), waits for pending enqueues and closes the store. */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stop(options);
    await this.insertBatcher.idle();
    await this.eventPublisher?.stop();
    await this.store.close();
  }

  /**
   * @internal buildJobInsert validates a job like `enqueue` and returns it unstored, for
   * callers that store it in a transaction of their own (the scheduler's fire records).
   */
  buildJobInsert(task: AnyTask | string, payload: unknown, options: EnqueueOptions = {}): Promise<JobInsert> {
    this.assertOpen();
    // A run started from a traced request (run now) carries that request's trace.
    return this.prepareInsert(this.resolveTask(task), payload, options, 'payload', activeTraceContext());
  }

  private reserveIdleWorker(queue: string): { worker: Worker; lease: NonNullable<JobInsert['lease']> } | null {
    for (const worker of this.runningWorkers) {
      const lease = worker.reserveSlot(queue);
      if (lease) return { worker, lease };
    }
    return null;
  }

  /** @internal wakeWorkers tells this process's idle workers of new jobs in `queue`. */
  wakeWorkers(queue: string): void {
    for (const worker of this.runningWorkers) worker.wake(queue);
  }

  // Workers learn of new jobs from the store's notifications (Store.subscribe), which every
  // store publishes to this process's subscribers as soon as the jobs are committed.
  private afterInsert(results: JobInsertResult[]): void {
    for (const result of results) this.events.emit('job:enqueued', result);
  }

  private resolveTask(task: AnyTask | string): AnyTask {
    if (typeof task === 'string') return this.task(task);
    if (!task || typeof task !== 'object' || typeof task.name !== 'string') {
      throw new ValidationError('Expected a task definition or a task name');
    }
    if (!this.tasks.has(task.name)) this.register(task);
    return task;
  }

  private async prepareInsert(
    task: AnyTask,
    payload: unknown,
    options: EnqueueOptions,
    path: string,
    traceContext: TraceContext | null,
    id: string = uuidv7(),
  ): Promise<JobInsert> {
    const checker = new OptionChecker();
    let value: unknown = payload;
    if (task.schema) {
      const validated = await validateWithSchema(task.schema, payload, path);
      if ('issues' in validated) checker.issues.push(...validated.issues);
      else value = validated.value;
    }
    const json = toJson(value, path, checker.issues);
    const now = this.clock.now();
    const delayMs = checker.integer('delayMs', options.delayMs, 0, LIMITS.delayMs) ?? 0;
    const dependsOn = checker.parents('dependsOn', options.dependsOn) ?? [];
    if (dependsOn.length > 0 && (options.runAt !== undefined || options.delayMs !== undefined)) {
      checker.problem('dependsOn', 'a job with parents runs when they complete: it cannot also have runAt or delayMs');
    }
    if (options.onParentFailure !== undefined && !['cancel', 'run'].includes(options.onParentFailure)) {
      checker.problem('onParentFailure', `expected 'cancel' or 'run', got ${JSON.stringify(options.onParentFailure)}`);
    }
    const runAt =
      dependsOn.length > 0 ? PARENTS_PENDING_RUN_AT : (checker.date('runAt', options.runAt) ?? new Date(now.getTime() + delayMs));
    const priority = checker.priority('priority', options.priority ?? task.priority ?? 0) ?? 0;
    const insert: JobInsert = {
      id,
      queue: checker.name('queue', options.queue ?? task.queue ?? 'default') ?? 'default',
      task: task.name,
      payload: json,
      status: runAt.getTime() > now.getTime() ? 'scheduled' : 'available',
      priority,
      runAt,
      maxAttempts:
        checker.integer('maxAttempts', options.maxAttempts ?? task.maxAttempts, 1, LIMITS.maxAttempts) ?? DEFAULT_MAX_ATTEMPTS,
      createdAt: now,
      dedupKey: checker.key('dedupKey', options.dedupKey ?? fromPayload(task.dedupKey, value)) ?? null,
      concurrencyKey: checker.key('concurrencyKey', options.concurrencyKey ?? fromPayload(task.concurrencyKey, value)) ?? null,
      concurrencyLimit:
        checker.integer('concurrencyLimit', options.concurrencyLimit ?? task.concurrencyLimit, 1, LIMITS.maxAttempts) ?? 1,
      tags: checker.tags('tags', options.tags) ?? [],
      metadata: withTraceContext(checker.metadata('metadata', options.metadata) ?? {}, traceContext),
      timeoutMs: checker.integer('timeoutMs', options.timeoutMs ?? task.timeoutMs, 1, LIMITS.timeoutMs) ?? null,
      ...(dependsOn.length > 0 ? { dependsOn, onParentFailure: options.onParentFailure ?? 'cancel' } : {}),
    };
    checker.throwIfAny(`Invalid job for task "${task.name}"`);
    return insert;
  }

  private assertQueueName(queue: string): void {
    const checker = new OptionChecker();
    checker.name('queue', queue);
    if (queue === undefined) checker.problem('queue', 'required');
    checker.throwIfAny('Invalid queue');
  }

  private assertOpen(): void {
    if (this.closed) throw new ClientClosedError();
  }
}

/** withTraceContext stores the enqueuing span's trace context in a job's metadata, when there is one. */
function withTraceContext(metadata: Record<string, JsonValue>, traceContext: TraceContext | null): Record<string, JsonValue> {
  if (traceContext === null) return metadata;
  return { ...metadata, [TRACE_CONTEXT_METADATA_KEY]: { ...traceContext } };
}

/** assertAcyclic throws a ValidationError naming a cycle when the flow's jobs depend on each other in a circle. */
function assertAcyclic(jobs: FlowJob[], ids: ReadonlyMap<string, string>): void {
  const parents = new Map(jobs.map((job) => [job.key, (job.options?.dependsOn ?? []).filter((parent) => ids.has(parent))]));
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (key: string): void => {
    if (done.has(key)) return;
    const seen = path.indexOf(key);
    if (seen !== -1) {
      const cycle = [...path.slice(seen), key].join(' -> ');
      throw new ValidationError('Invalid flow, nothing enqueued', [{ path: 'jobs', message: `dependency cycle: ${cycle}` }]);
    }
    path.push(key);
    for (const parent of parents.get(key) ?? []) visit(parent);
    path.pop();
    done.add(key);
  };
  for (const job of jobs) visit(job.key);
}

function fromPayload<Payload>(option: FromPayload<Payload, string> | undefined, payload: Payload): string | undefined {
  return typeof option === 'function' ? option(payload) : option;
}
