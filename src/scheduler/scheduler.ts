import type { Jobyard } from '../core/index.js';
import { type LoopLiveness, PeriodicLoop } from '../core/periodic-loop.js';
import { OptionChecker } from '../core/validation.js';
import { ScheduleExistsError, ScheduleNotFoundError, UnknownTaskError, ValidationError } from '../errors/index.js';
import type { ScheduleFireInput, ScheduleFireResult, SchedulePatch, Store } from '../store/index.js';
import type { Clock, Job, Schedule, ScheduleFire } from '../types/index.js';
import { type ResolvedScheduleDefinition, resolveScheduleDefinition, type ScheduleDefinition } from './definition.js';
import { planFires } from './misfire.js';
import { firstFireTime } from './trigger.js';

/** SchedulerOptions configure a Scheduler. */
export interface SchedulerOptions {
  /** How often the fire loop looks for due schedules, in ms (a fire runs up to this late). @defaultValue 1000 */
  pollIntervalMs?: number;
  /** Most due schedules handled per tick. @defaultValue 100 */
  batchSize?: number;
  /** Most fire times of one schedule handled per tick (the rest stay due). @defaultValue 1000 */
  maxFiresPerTick?: number;
}

/** ScheduleRun is what runScheduleNow did: the fire record and the job it enqueued (null when skipped). */
export interface ScheduleRun {
  fire: ScheduleFire | null;
  job: Job | null;
}

/** SchedulePatchInput is a runtime change to a schedule: any definition field but the task. */
export type SchedulePatchInput = Partial<Omit<ScheduleDefinition, 'task' | 'paused'>>;

/**
 * Scheduler keeps schedules in the client's store and enqueues their jobs when they are due.
 * Any number of schedulers (processes, machines) may run against one store: each fire time
 * is enqueued exactly once (the store's compare-and-set on nextRunAt plus a unique fire
 * record), with no leader. The jobs themselves are delivered at least once, like any job.
 * A failing job never stops the scheduler; errors of the fire loop are logged and retried.
 * The fires this scheduler records are emitted on the client's events (`schedule:fired`,
 * `schedule:missed`, `schedule:skipped`); fires recorded by other processes are not.
 */
export class Scheduler {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly batchSize: number;
  private readonly maxFiresPerTick: number;
  private readonly loop: PeriodicLoop;

  constructor(
    private readonly client: Jobyard,
    options: SchedulerOptions = {},
  ) {
    const checker = new OptionChecker();
    const pollIntervalMs = checker.integer('pollIntervalMs', options.pollIntervalMs, 10, 3_600_000) ?? 1000;
    this.batchSize = checker.integer('batchSize', options.batchSize, 1, 10_000) ?? 100;
    this.maxFiresPerTick = checker.integer('maxFiresPerTick', options.maxFiresPerTick, 1, 100_000) ?? 1000;
    checker.throwIfAny('Invalid scheduler options');
    this.store = client.store;
    // The client's clock: the jobs it builds must agree with the scheduler on "now".
    this.clock = client.clock;
    this.loop = new PeriodicLoop('scheduler', pollIntervalMs, () => this.tick(), client.events, client.logger, this.clock);
  }

  /** liveness says whether the fire loop runs and when its last tick succeeded (what `/health/ready` checks). */
  get liveness(): LoopLiveness {
    return this.loop.liveness;
  }

  /** start runs the fire loop in the background until stop(). Idempotent. */
  start(): void {
    this.loop.start();
  }

  /** stop ends the fire loop after the tick in progress. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /**
   * tick fires every due schedule once (what the loop does each pollIntervalMs); tests call
   * it after moving a fake clock. Returns the jobs this scheduler enqueued.
   */
  async tick(): Promise<Job[]> {
    const now = this.clock.now();
    const enqueued: Job[] = [];
    for (const schedule of await this.store.scheduleDue({ now, limit: this.batchSize })) {
      try {
        enqueued.push(...(await this.fireDue(schedule, now)));
      } catch (error) {
        if (error instanceof UnknownTaskError) {
          // Another process that has the task will fire it.
          this.client.logger.debug({ scheduleId: schedule.id, task: schedule.task }, 'schedule task not registered here');
          continue;
        }
        this.client.events.emit('error', { error, service: 'scheduler' });
        this.client.logger.error({ err: error, scheduleId: schedule.id }, 'schedule fire failed, retrying next tick');
      }
    }
    return enqueued;
  }

  /**
   * schedule declares a schedule (upsert). A new id is created; an existing one is updated
   * only when the definition changed since it was last declared, and then keeps its runtime
   * state (paused stays paused). Throws ValidationError naming the bad field, or
   * UnknownTaskError.
   */
  async schedule(id: string, definition: ScheduleDefinition): Promise<Schedule> {
    const resolved = await this.resolve(id, definition);
    const now = this.clock.now();
    const existing = await this.store.scheduleGet({ id });
    if (existing === null) return (await this.insert(id, resolved, now)).schedule;
    if (existing.definitionHash === resolved.definitionHash) return existing;
    const { paused: _initialOnly, ...changes } = resolved;
    return this.update(existing, changes, now);
  }

  /**
   * createSchedule adds a schedule at run time (what the HTTP API's create does): validated
   * like schedule(), but an id already in use is refused with ScheduleExistsError rather than
   * updated. Like a declared one, it keeps the hash of its definition, so declaring the same
   * id in code later changes it only when that definition differs.
   */
  async createSchedule(id: string, definition: ScheduleDefinition): Promise<Schedule> {
    const { schedule, created } = await this.insert(id, await this.resolve(id, definition), this.clock.now());
    if (!created) throw new ScheduleExistsError(id);
    return schedule;
  }

  /** updateSchedule changes a schedule at run time (kept across restarts until its code definition changes). */
  async updateSchedule(id: string, patch: SchedulePatchInput): Promise<Schedule> {
    const existing = await this.mustGet(id);
    const resolved = await this.resolve(id, { ...definitionOf(existing), ...patch });
    const { paused: _runtimeState, definitionHash: _codeDefinition, ...changes } = resolved;
    return this.update(existing, changes, this.clock.now());
  }

  /** pauseSchedule stops a schedule from firing until resumeSchedule. */
  async pauseSchedule(id: string): Promise<Schedule> {
    return this.mustUpdate(id, { paused: true });
  }

  /** resumeSchedule lets a paused schedule fire again, from its next fire time after now (fire times while paused are not made up). */
  async resumeSchedule(id: string): Promise<Schedule> {
    const existing = await this.mustGet(id);
    const now = this.clock.now();
    return this.mustUpdate(id, { paused: false, nextRunAt: firstFireTime(existing.trigger, now) });
  }

  /**
   * runScheduleNow enqueues one job of the schedule now (fire time = now), within its max
   * instances; nextRunAt is unchanged. It is recorded as a manual run (`manual: true`), beside
   * any fire time of the trigger at the same instant; `fire` is null only when a manual run was
   * already recorded at this very millisecond.
   */
  async runScheduleNow(id: string): Promise<ScheduleRun> {
    const schedule = await this.mustGet(id);
    const now = this.clock.now();
    const job = await this.buildJob(schedule, now);
    const result = await this.store.scheduleFire({ scheduleId: id, advance: null, fires: [{ fireAt: now, job }], now });
    if (!result.applied) throw new ScheduleNotFoundError(id);
    this.afterFire(result);
    return { fire: result.fires[0] ?? null, job: result.jobs[0] ?? null };
  }

  /** removeSchedule deletes a schedule and its history (its jobs stay); false when there was none. */
  removeSchedule(id: string): Promise<boolean> {
    return this.store.scheduleDelete({ id });
  }

  /** listSchedules lists every schedule by id; describeTrigger(schedule.trigger) gives a status line. */
  listSchedules(): Promise<Schedule[]> {
    return this.store.scheduleList();
  }

  /** getSchedule returns a schedule or null. */
  getSchedule(id: string): Promise<Schedule | null> {
    return this.store.scheduleGet({ id });
  }

  /** scheduleHistory lists a schedule's fire times, latest first: enqueued (with the job id), missed or skipped (with why). */
  scheduleHistory(id: string, options: { limit?: number } = {}): Promise<ScheduleFire[]> {
    const checker = new OptionChecker();
    const limit = checker.integer('limit', options.limit, 1, 1000) ?? 100;
    checker.throwIfAny('Invalid history options');
    return this.store.scheduleHistory({ scheduleId: id, limit });
  }

  /** fireDue records the due fire times of one schedule; returns the jobs enqueued (none when another process won). */
  private async fireDue(schedule: Schedule, now: Date): Promise<Job[]> {
    const from = schedule.nextRunAt;
    if (from === null) return [];
    const plan = planFires(schedule, now, this.maxFiresPerTick);
    const fires: ScheduleFireInput[] = [];
    for (const fire of plan.fires) {
      if (!fire.run) {
        fires.push({ fireAt: fire.fireAt, job: null, outcome: fire.outcome, reason: fire.reason });
        continue;
      }
      try {
        fires.push({ fireAt: fire.fireAt, job: await this.buildJob(schedule, fire.fireAt) });
      } catch (error) {
        // A definition that no longer yields a valid job (e.g. the task's schema changed) is
        // recorded and passed over, so one bad schedule cannot stall the loop.
        if (!(error instanceof ValidationError)) throw error;
        fires.push({ fireAt: fire.fireAt, job: null, outcome: 'skipped', reason: `invalid job: ${error.message}` });
      }
    }
    const result = await this.store.scheduleFire({
      scheduleId: schedule.id,
      advance: { from, to: plan.nextRunAt },
      fires,
      now,
    });
    if (!result.applied) return [];
    // One line per tick, not per fire time: a long outage can leave hundreds missed.
    const notRun = result.fires.filter((fire) => fire.outcome !== 'enqueued');
    const first = notRun[0];
    if (first !== undefined) {
      this.client.logger.warn(
        {
          scheduleId: schedule.id,
          count: notRun.length,
          firstFireAt: first.fireAt,
          outcome: first.outcome,
          reason: first.reason,
        },
        'schedule fire times not run (see scheduleHistory)',
      );
    }
    this.afterFire(result);
    return result.jobs;
  }

  private buildJob(schedule: Schedule, fireAt: Date) {
    const jitter = schedule.jitterMs > 0 ? Math.floor(Math.random() * (schedule.jitterMs + 1)) : 0;
    const runAt = new Date(fireAt.getTime() + jitter);
    return this.client.buildJobInsert(schedule.task, schedule.payload, { ...schedule.jobOptions, runAt });
  }

  /** afterFire wakes this process's workers for the new jobs and emits an event per fire this process recorded. */
  private afterFire({ fires, jobs }: ScheduleFireResult): void {
    for (const queue of new Set(jobs.map((job) => job.queue))) this.client.wakeWorkers(queue);
    const jobsById = new Map(jobs.map((job) => [job.id, job]));
    const { events } = this.client;
    for (const { scheduleId, fireAt, manual, outcome, jobId, reason } of fires) {
      const job = jobId === null ? undefined : jobsById.get(jobId);
      if (outcome === 'enqueued' && job) events.emit('schedule:fired', { scheduleId, fireAt, manual, job });
      else if (outcome === 'missed') events.emit('schedule:missed', { scheduleId, fireAt, reason: reason ?? '' });
      else if (outcome === 'skipped')
        events.emit('schedule:skipped', { scheduleId, fireAt, manual, reason: reason ?? '', jobId });
    }
  }

  /** resolve validates a definition, including that its task and job options make a valid job. */
  private async resolve(id: string, definition: ScheduleDefinition): Promise<ResolvedScheduleDefinition> {
    const resolved = resolveScheduleDefinition(id, definition);
    await this.client.buildJobInsert(resolved.task, resolved.payload, resolved.jobOptions);
    return resolved;
  }

  /** insert stores a new schedule, due at its first fire time after now; created is false when the id was taken. */
  private insert(id: string, resolved: ResolvedScheduleDefinition, now: Date): Promise<{ schedule: Schedule; created: boolean }> {
    return this.store.scheduleInsert({
      schedule: {
        id,
        ...resolved,
        nextRunAt: firstFireTime(resolved.trigger, now),
        lastRunAt: null,
        createdAt: now,
        updatedAt: now,
      },
    });
  }

  /** update applies definition changes; a changed trigger restarts from its first fire time after now. */
  private async update(existing: Schedule, changes: SchedulePatch, now: Date): Promise<Schedule> {
    const triggerChanged = changes.trigger !== undefined && JSON.stringify(changes.trigger) !== JSON.stringify(existing.trigger);
    const patch: SchedulePatch =
      triggerChanged && changes.trigger ? { ...changes, nextRunAt: firstFireTime(changes.trigger, now) } : changes;
    const updated = await this.store.scheduleUpdate({ id: existing.id, patch, now });
    if (updated === null) throw new ScheduleNotFoundError(existing.id);
    return updated;
  }

  private async mustGet(id: string): Promise<Schedule> {
    const schedule = await this.store.scheduleGet({ id });
    if (schedule === null) throw new ScheduleNotFoundError(id);
    return schedule;
  }

  private async mustUpdate(id: string, patch: SchedulePatch): Promise<Schedule> {
    const updated = await this.store.scheduleUpdate({ id, patch, now: this.clock.now() });
    if (updated === null) throw new ScheduleNotFoundError(id);
    return updated;
  }
}

/** definitionOf turns a stored schedule back into a definition, the base a runtime patch applies to. */
function definitionOf(schedule: Schedule): ScheduleDefinition {
  return {
    task: schedule.task,
    trigger: schedule.trigger,
    payload: schedule.payload,
    ...(schedule.name === null ? {} : { name: schedule.name }),
    misfireGraceMs: schedule.misfireGraceMs,
    coalesce: schedule.coalesce,
    maxInstances: schedule.maxInstances,
    jitterMs: schedule.jitterMs,
    job: schedule.jobOptions,
  };
}
