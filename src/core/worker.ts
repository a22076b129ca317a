import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Span, SpanContext } from '@opentelemetry/api';
import type { Logger } from 'pino';
import {
  CancelledError,
  SnoozeError,
  TimeoutError,
  UnrecoverableError,
  ValidationError,
  type ValidationIssue,
} from '../errors/index.js';
import type { ClaimedJob, JobOutcome, JobSettle, JobSettleResult, Store } from '../store/index.js';
import type { Job, JobErrorRecord } from '../types/index.js';
import { DEFAULT_BACKOFF, retryDelayMs } from './backoff.js';
import { Batcher } from './batcher.js';
import type { Jobyard } from './client.js';
import type { JobContext } from './job-context.js';
import type { LoopLiveness } from './periodic-loop.js';
import { ReconnectBackoff, sleep } from './sleep.js';
import { StepRunner } from './steps.js';
import { endExecutionSpan, recordClaim, runInSpan, startExecutionSpan, traceLogFields } from './tracing.js';
import { LIMITS, OptionChecker, toJson } from './validation.js';

/** WorkerOptions configure one worker: which queues it takes jobs from and how many at once. */
export interface WorkerOptions {
  /** Queues to take jobs from. @defaultValue ['default'] */
  queues?: string[];
  /** Jobs run at once by this worker. @defaultValue 10 */
  concurrency?: number;
  /**
   * Jobs claimed ahead of free slots and held, leased, in a local buffer, so that a slot
   * freed by a short job starts the next one at once instead of after a claim round trip,
   * and claims and settles carry many jobs each. Raise it (e.g. to 10-20 × concurrency)
   * for many short jobs; keep it 0 for long jobs, since buffered jobs wait here while
   * other workers may be idle, and a job of higher priority enqueued meanwhile starts
   * after the buffered ones. @defaultValue 0
   */
  prefetch?: number;
  /** How long a claimed job's lease lasts without renewal, in ms; a dead worker's jobs are rescued after it. @defaultValue 30_000 */
  leaseMs?: number;
  /** How often leases of running jobs are renewed, in ms. @defaultValue leaseMs / 3 */
  heartbeatIntervalMs?: number;
  /** How often to look for due jobs without a notification (delayed jobs, retries, a missed notification), in ms. @defaultValue 1000 */
  pollIntervalMs?: number;
  /** How long `stop()` lets running jobs finish before handing them back, in ms. @defaultValue 10_000 */
  graceMs?: number;
  /** Identifies this worker in leases and logs. @defaultValue `<hostname>:<pid>:<random>` */
  id?: string;
}

/**
 * HeldJob is a job this worker holds a lease on: buffered (claimed, not started yet) or
 * started. Its AbortController is only made when the handler reads `signal`: most handlers
 * never do, and one per job was a measurable share of a drain's CPU (bench/RESULTS.md).
 */
class HeldJob {
  /** Why the attempt was ended early; the first reason wins. */
  abortReason: Error | null = null;
  private controller: AbortController | null = null;
  private rejectRun: ((reason: Error) => void) | null = null;

  /** The span of the attempt while its handler runs (a no-op span without an SDK). */
  span: Span | null = null;

  constructor(
    readonly job: Job,
    readonly leaseToken: string,
    /** The `claim` span that took the job; null for a job handed off at enqueue. */
    readonly claimSpan: SpanContext | null,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  abort(reason: Error): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
    this.rejectRun?.(reason);
  }

  /** run settles with the handler, or rejects with the abort reason as soon as the attempt is aborted. */
  run<T>(handling: Promise<T>): Promise<T> {
    if (this.abortReason) return Promise.reject(this.abortReason);
    return new Promise<T>((resolve, reject) => {
      this.rejectRun = reject;
      handling.then(resolve, reject);
    });
  }
}

/** Abort reasons that end an attempt without counting it as the handler's failure. */
class LeaseLost extends Error {
  override name = 'LeaseLost';
}
class ShuttingDown extends Error {
  override name = 'ShuttingDown';
}

const SETTLE_BATCH = 500;

/**
 * Worker claims jobs from its queues and runs their handlers, up to `concurrency` at once.
 * It holds a lease on every running job and renews it; outcomes are written in batches,
 * fenced by the lease token, so a worker that lost a job cannot overwrite its newer attempt.
 */
export class Worker {
  readonly id: string;
  readonly queues: readonly string[];
  readonly concurrency: number;
  readonly prefetch: number;
  private readonly leaseMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly pollIntervalMs: number;
  private readonly graceMs: number;
  /** Every job this worker holds a lease on: buffered, running, or being settled. */
  private readonly running = new Map<string, HeldJob>();
  /** Jobs in `running` claimed but not started yet, in claim order. */
  private readonly buffered: HeldJob[] = [];
  /** Jobs in `running` whose handler has finished and whose outcome is being written. */
  private settling = 0;
  /** Slots promised to jobs this process is enqueuing leased to this worker (reserveSlot). */
  private reserved = 0;
  private readonly settleBatcher: Batcher<JobSettle, JobSettleResult>;
  private readonly stopController = new AbortController();
  private mayHaveJobs = true;
  private wakeUp: (() => void) | null = null;
  private claimLoop: Promise<void> | null = null;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | null = null;
  private stopping: Promise<void> | null = null;
  private lastProgressAt: Date | null = null;

  constructor(
    private readonly client: Jobyard,
    private readonly store: Store,
    options: WorkerOptions,
  ) {
    const checker = new OptionChecker();
    const queues = options.queues ?? ['default'];
    if (!Array.isArray(queues) || queues.length === 0) checker.problem('queues', 'expected a non-empty list of queue names');
    else for (const [index, queue] of queues.entries()) checker.name(`queues.${index}`, queue);
    this.concurrency = checker.integer('concurrency', options.concurrency, 1, 10_000) ?? 10;
    this.prefetch = checker.integer('prefetch', options.prefetch, 0, 100_000) ?? 0;
    this.leaseMs = checker.integer('leaseMs', options.leaseMs, 100, LIMITS.timeoutMs) ?? 30_000;
    this.heartbeatIntervalMs =
      checker.integer('heartbeatIntervalMs', options.heartbeatIntervalMs, 10, this.leaseMs) ?? Math.floor(this.leaseMs / 3);
    this.pollIntervalMs = checker.integer('pollIntervalMs', options.pollIntervalMs, 10, LIMITS.timeoutMs) ?? 1000;
    this.graceMs = checker.integer('graceMs', options.graceMs, 0, LIMITS.timeoutMs) ?? 10_000;
    checker.throwIfAny('Invalid worker options');
    this.queues = [...new Set(queues)];
    this.id = options.id ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.settleBatcher = new Batcher((settles) => this.writeSettles(settles), SETTLE_BATCH);
  }

  /** runningCount is how many jobs this worker holds now (running, buffered or being settled). */
  get runningCount(): number {
    return this.running.size;
  }

  /**
   * liveness says whether the claim loop runs and when it last made progress: a claim that
   * answered, or a round that found every slot busy. A healthy loop goes round at least every
   * pollIntervalMs; a loop stuck in a claim that never answers stops advancing it.
   */
  get liveness(): LoopLiveness {
    return {
      running: this.claimLoop !== null && !this.stopController.signal.aborted,
      lastProgressAt: this.lastProgressAt,
      intervalMs: this.pollIntervalMs,
    };
  }

  /** start begins claiming jobs. */
  async start(): Promise<void> {
    if (this.claimLoop) return;
    this.lastProgressAt = this.client.clock.now();
    this.unsubscribe = this.store.subscribe((notification) => {
      if (notification.type === 'jobs_available') this.wake(notification.queue);
      else if (notification.type === 'cancel') this.abortIfRunning(notification.jobId);
    });
    this.timers.push(
      setInterval(() => this.wake('*'), this.pollIntervalMs),
      setInterval(() => void this.renewLeases(), this.heartbeatIntervalMs),
    );
    // Claim only once notifications reach this worker: a job claimed before the store's
    // LISTEN is active would miss a cancel sent from another process.
    this.claimLoop = this.store.whenSubscribed().then(() => this.runClaimLoop());
  }

  /**
   * stop stops claiming, waits up to `graceMs` for running jobs, then aborts the rest and
   * hands them back (status available, attempt not spent). Idempotent.
   */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.stopping ??= this.shutDown(options.graceMs ?? this.graceMs);
    return this.stopping;
  }

  /** @internal wake tells an idle worker that jobs may be waiting in `queue` ('*' for any). */
  wake(queue: string): void {
    if (queue !== '*' && !this.queues.includes(queue)) return;
    this.mayHaveJobs = true;
    this.notifyLoop();
  }

  /**
   * @internal reserveSlot promises a free slot to a job this process is about to enqueue,
   * so that the job is inserted already leased to this worker and starts without a claim
   * round trip (local hand-off). Only an idle worker of the job's queue accepts: a free slot,
   * an empty buffer, and no sign of waiting jobs (its last claim took all there were and no
   * notification came since), so the hand-off never jumps ahead of jobs it would have
   * claimed anyway. Returns the lease to insert with, or null. Settle it with adopt().
   */
  reserveSlot(queue: string): { owner: string; expiresAt: Date } | null {
    if (this.stopController.signal.aborted || this.mayHaveJobs || !this.queues.includes(queue)) return null;
    if (this.buffered.length > 0 || this.startedCount + this.reserved >= this.concurrency) return null;
    this.reserved += 1;
    return { owner: this.id, expiresAt: new Date(this.client.clock.now().getTime() + this.leaseMs) };
  }

  /**
   * @internal adopt ends a reservation: a job inserted leased to this worker starts (or is
   * handed back at once when the worker is stopping); null releases the slot (the insert
   * failed, or a dedup conflict returned another job).
   */
  adopt(claimed: ClaimedJob | null): void {
    this.reserved -= 1;
    if (claimed) this.hold([claimed], null);
    this.notifyLoop();
  }

  /** @internal abortIfRunning aborts the handler of a job this worker runs, as cancelled. */
  abortIfRunning(jobId: string): void {
    const entry = this.running.get(jobId);
    if (entry) this.abort(entry, new CancelledError());
  }

  private notifyLoop(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = null;
    wakeUp?.();
  }

  private async runClaimLoop(): Promise<void> {
    const backoff = new ReconnectBackoff();
    const signal = this.stopController.signal;
    while (!signal.aborted) {
      const limit = this.claimLimit();
      if (limit <= 0) this.lastProgressAt = this.client.clock.now();
      if (limit <= 0 || !this.mayHaveJobs) {
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
        });
        // Jobs settled in one batch free their slots in the same tick: claim for all at once.
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      this.mayHaveJobs = false;
      let claimed: ClaimedJob[];
      const claimStartedAt = new Date();
      try {
        claimed = await this.store.jobClaim({
          queues: [...this.queues],
          workerId: this.id,
          limit,
          leaseMs: this.leaseMs,
          now: this.client.clock.now(),
        });
        this.lastProgressAt = this.client.clock.now();
        backoff.reset();
      } catch (error) {
        recordClaim(claimStartedAt, { queues: this.queues, workerId: this.id, count: 0 }, error);
        this.mayHaveJobs = true;
        this.reportError(error, 'claim failed, retrying');
        await sleep(backoff.nextDelayMs(), signal);
        continue;
      }
      if (claimed.length === limit) this.mayHaveJobs = true;
      const count = claimed.length;
      this.hold(claimed, count === 0 ? null : recordClaim(claimStartedAt, { queues: this.queues, workerId: this.id, count }));
    }
    this.startBuffered();
  }

  /**
   * claimLimit is how many jobs the next claim may take, 0 when it should wait: with free
   * slots and an empty buffer, or once the buffer is down to half of `prefetch`. A finished
   * handler frees its slot while its outcome is still being written, so the next claim
   * overlaps that write instead of waiting for it (benchmarked: bench/RESULTS.md); the
   * worker then holds at most twice `concurrency + prefetch` leases.
   */
  private claimLimit(): number {
    if (this.buffered.length > this.prefetch / 2) return 0;
    const capacity = this.concurrency + this.prefetch;
    const held = this.running.size - this.settling + this.reserved;
    return Math.min(capacity - held, 2 * capacity - this.running.size);
  }

  /** hold buffers jobs now leased to this worker and starts as many as slots allow. */
  private hold(claimed: ClaimedJob[], claimSpan: SpanContext | null): void {
    for (const { job, leaseToken } of claimed) {
      const entry = new HeldJob(job, leaseToken, claimSpan);
      this.running.set(job.id, entry);
      this.buffered.push(entry);
    }
    this.startBuffered();
  }

  /** startedCount is how many held jobs have a handler running (not buffered, not settling). */
  private get startedCount(): number {
    return this.running.size - this.settling - this.buffered.length;
  }

  /**
   * startBuffered starts buffered jobs while slots are free. Once stopping, buffered jobs
   * are handed back at once (started ones get the grace period).
   */
  private startBuffered(): void {
    const stopping = this.stopController.signal.aborted;
    while (this.buffered.length > 0) {
      if (!stopping && this.startedCount >= this.concurrency) break;
      const entry = this.buffered.shift() as HeldJob;
      if (stopping) entry.abort(new ShuttingDown());
      void this.execute(entry);
    }
  }

  /** abort ends a job's attempt for `reason`; a buffered job is settled at once, without running. */
  private abort(entry: HeldJob, reason: Error): void {
    entry.abort(reason);
    const index = this.buffered.indexOf(entry);
    if (index === -1) return;
    this.buffered.splice(index, 1);
    void this.execute(entry);
  }

  private async execute(entry: HeldJob): Promise<void> {
    const { job } = entry;
    let outcome: JobOutcome | null;
    const startedAt = performance.now();
    if (entry.abortReason) {
      // Cancelled, lost or handed back while buffered: the handler never ran.
      outcome = this.outcomeOfError(job, entry.abortReason);
    } else {
      this.client.events.emit('job:started', { job });
      const span = startExecutionSpan(job, entry.claimSpan);
      entry.span = span;
      const timer =
        job.timeoutMs === null
          ? undefined
          : setTimeout(() => entry.abort(new TimeoutError(job.timeoutMs as number)), job.timeoutMs);
      let failure: unknown;
      try {
        const task = this.client.task(job.task);
        const handling = runInSpan(span, () => Promise.resolve().then(() => task.handler(job.payload, this.contextFor(entry))));
        const result = await entry.run(handling);
        const issues: ValidationIssue[] = [];
        const json = toJson(result, 'result', issues);
        if (issues.length > 0) throw new ValidationError('Handler result cannot be stored', issues);
        outcome = { kind: 'completed', result: json };
      } catch (thrown) {
        failure = entry.abortReason ?? thrown;
        outcome = this.outcomeOfError(job, failure);
      } finally {
        clearTimeout(timer);
      }
      const outcomeName = outcome?.kind ?? 'lease lost';
      endExecutionSpan(span, outcomeName, outcomeName === 'retry' || outcomeName === 'failed' ? failure : undefined);
    }
    this.settling += 1;
    this.startBuffered();
    this.notifyLoop();
    if (outcome) await this.settle(entry, outcome, performance.now() - startedAt);
    else this.client.events.emit('job:stale', { job, action: 'settle' });
    this.settling -= 1;
    this.running.delete(job.id);
    this.notifyLoop();
  }

  private outcomeOfError(job: Job, reason: unknown): JobOutcome | null {
    const now = this.client.clock.now();
    if (reason instanceof LeaseLost) return null;
    if (reason instanceof ShuttingDown) return { kind: 'released', runAt: now };
    if (reason instanceof SnoozeError) return { kind: 'released', runAt: new Date(now.getTime() + reason.delayMs) };
    const error = errorRecord(job.attempt, reason, now);
    if (reason instanceof CancelledError) return { kind: 'cancelled', error };
    if (reason instanceof UnrecoverableError || job.attempt >= job.maxAttempts) return { kind: 'failed', error };
    const task = this.client.taskNames().includes(job.task) ? this.client.task(job.task) : undefined;
    const delay = retryDelayMs(task?.backoff ?? DEFAULT_BACKOFF, job.attempt, reason);
    return { kind: 'retry', error, runAt: new Date(now.getTime() + delay) };
  }

  private async settle(entry: HeldJob, outcome: JobOutcome, durationMs: number): Promise<void> {
    const { job } = entry;
    let applied: boolean;
    try {
      ({ applied } = await this.settleBatcher.add({ id: job.id, leaseToken: entry.leaseToken, outcome }));
    } catch (error) {
      // The lease will expire and the rescuer will run the job again: at least once.
      this.reportError(error, 'could not record job outcome; the job will be rescued after its lease');
      return;
    }
    const events = this.client.events;
    if (!applied) {
      this.client.logger.warn(
        { jobId: job.id, task: job.task, attempt: job.attempt, outcome: outcome.kind },
        'stale write rejected: lease lost',
      );
      events.emit('job:stale', { job, action: outcome.kind });
      return;
    }
    const finishedAt = this.client.clock.now();
    switch (outcome.kind) {
      case 'completed':
        events.emit('job:completed', {
          job: { ...job, status: 'completed', result: outcome.result, progress: 1, finishedAt },
          result: outcome.result,
          durationMs,
        });
        break;
      case 'retry':
        events.emit('job:retrying', {
          job: { ...job, status: 'retryable', runAt: outcome.runAt, errors: [...job.errors, outcome.error] },
          error: outcome.error,
          runAt: outcome.runAt,
          durationMs,
        });
        break;
      case 'failed':
        this.client.logger.warn(
          { jobId: job.id, task: job.task, attempt: job.attempt, ...traceLogFields(entry.span), err: outcome.error.message },
          'job failed',
        );
        events.emit('job:failed', {
          job: { ...job, status: 'failed', finishedAt, errors: [...job.errors, outcome.error] },
          error: outcome.error,
          durationMs,
        });
        break;
      case 'cancelled':
        events.emit('job:cancelled', { job: { ...job, status: 'cancelled', finishedAt } });
        break;
      case 'released':
        events.emit('job:released', { job: { ...job, status: 'available', attempt: job.attempt - 1 }, runAt: outcome.runAt });
        break;
    }
  }

  /** Writes a batch of outcomes; retries through database outages until the leases would have expired anyway. */
  private async writeSettles(settles: JobSettle[]): Promise<JobSettleResult[]> {
    const backoff = new ReconnectBackoff();
    const giveUpAt = Date.now() + this.leaseMs;
    for (;;) {
      try {
        return await this.store.jobSettleMany({ settles, now: this.client.clock.now() });
      } catch (error) {
        if (Date.now() > giveUpAt) throw error;
        this.reportError(error, 'recording job outcomes failed, retrying');
        await sleep(backoff.nextDelayMs());
      }
    }
  }

  private contextFor(entry: HeldJob): JobContext {
    const { job, leaseToken } = entry;
    const parentLog = this.client.logger;
    let log: Logger | undefined;
    // A step runner per attempt, only when the handler uses steps.
    let runner: StepRunner | undefined;
    const steps = (): StepRunner => {
      runner ??= new StepRunner({
        job,
        clock: this.client.clock,
        signal: () => entry.signal,
        save: (step) => this.store.jobStepSave({ id: job.id, leaseToken, step }),
        leaseLost: () => {
          entry.abort(new LeaseLost());
          return entry.abortReason ?? new LeaseLost();
        },
        progress: (fraction, message) => context.progress(fraction, message),
        declaredSteps: this.client.task(job.task).steps ?? [],
      });
      return runner;
    };
    const context: JobContext = {
      job,
      get signal() {
        return entry.signal;
      },
      // A child logger per job only when the handler logs.
      get log() {
        log ??= parentLog.child({ jobId: job.id, task: job.task, attempt: job.attempt, ...traceLogFields(entry.span) });
        return log;
      },
      progress: async (fraction: number, message?: string) => {
        if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1)) {
          throw new ValidationError('Invalid progress', [{ path: 'fraction', message: 'expected a number from 0 to 1' }]);
        }
        const held = await this.store.jobProgress({ id: job.id, leaseToken, progress: fraction, message: message ?? null });
        if (!held) entry.abort(new LeaseLost());
        else this.client.events.emit('job:progress', { job, progress: fraction, message: message ?? null });
      },
      heartbeat: async () => {
        await this.renewLeases([entry]);
      },
      parents: () => this.store.jobParents({ id: job.id }),
      step: (name, fn) => steps().step(name, fn),
      sleep: (name, ms) => {
        if (typeof ms !== 'number' || !Number.isFinite(ms)) {
          throw new ValidationError('Invalid sleep', [{ path: 'ms', message: 'expected a finite number of milliseconds' }]);
        }
        return steps().sleepUntil(name, new Date(this.client.clock.now().getTime() + ms));
      },
      sleepUntil: (name, wakeAt) => steps().sleepUntil(name, wakeAt),
    };
    return context;
  }

  private async renewLeases(entries: HeldJob[] = [...this.running.values()]): Promise<void> {
    if (entries.length === 0) return;
    try {
      const results = await this.store.jobLeaseRenew({
        leases: entries.map((entry) => ({ id: entry.job.id, leaseToken: entry.leaseToken })),
        leaseMs: this.leaseMs,
        now: this.client.clock.now(),
      });
      for (const result of results) {
        const entry = this.running.get(result.id);
        if (!entry) continue;
        if (!result.held) this.abort(entry, new LeaseLost());
        else if (result.cancelRequested) this.abort(entry, new CancelledError());
      }
    } catch (error) {
      this.reportError(error, 'lease renewal failed, retrying at the next heartbeat');
    }
  }

  private async shutDown(graceMs: number): Promise<void> {
    this.stopController.abort();
    this.notifyLoop();
    this.unsubscribe?.();
    await this.claimLoop;
    const finished = this.whenIdle();
    await Promise.race([finished, sleep(graceMs)]);
    for (const entry of this.running.values()) entry.abort(new ShuttingDown());
    await finished;
    for (const timer of this.timers) clearInterval(timer);
    await this.settleBatcher.idle();
  }

  private async whenIdle(): Promise<void> {
    while (this.running.size > 0 || this.reserved > 0) {
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
      });
    }
  }

  private reportError(error: unknown, message: string): void {
    this.client.events.emit('error', { error, service: `worker ${this.id}` });
    this.client.logger.warn({ err: error, workerId: this.id }, message);
  }
}

function errorRecord(attempt: number, reason: unknown, now: Date): JobErrorRecord {
  const error =
    reason instanceof Error
      ? reason
      : new Error(typeof reason === 'string' ? reason : (JSON.stringify(reason) ?? String(reason)));
  const code = (error as { code?: unknown }).code;
  return {
    attempt,
    at: now.toISOString(),
    message: error.message,
    name: typeof code === 'string' ? code : error.name,
    ...(error.stack ? { stack: error.stack } : {}),
  };
}
