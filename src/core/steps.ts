import { SnoozeError, ValidationError, type ValidationIssue } from '../errors/index.js';
import type { Clock, Job, JobStep } from '../types/index.js';
import { toJson } from './validation.js';

/** Longest step name, in characters. */
const MAX_STEP_NAME_LENGTH = 200;

/** StepRunnerDeps are what a StepRunner needs from the worker that runs the attempt. */
export interface StepRunnerDeps {
  job: Job;
  clock: Clock;
  signal: () => AbortSignal;
  /** Stores a step record, fenced by the attempt's lease; false when the lease is lost. */
  save: (step: JobStep) => Promise<boolean>;
  /** Ends the attempt because its lease was lost; returns the reason to throw. */
  leaseLost: () => Error;
  /** Reports progress the way `ctx.progress` does. */
  progress: (fraction: number, message: string) => Promise<void>;
  /** The task's declared step names, for "step 2/4" progress; empty when it declares none. */
  declaredSteps: readonly string[];
}

/**
 * StepRunner runs the durable steps of one attempt (`ctx.step`, `ctx.sleep`). A completed
 * step's stored result is returned without running it again, so a retried or rescued job
 * continues at its first unfinished step. A step's effects happen at least once: a crash
 * between the step's work and the record of its result runs the step again.
 */
export class StepRunner {
  private readonly stored: Map<string, JobStep>;
  /** Names used in this attempt: a name twice would make its second call return the first's result. */
  private readonly used = new Set<string>();

  constructor(private readonly deps: StepRunnerDeps) {
    this.stored = new Map(deps.job.steps.map((step) => [step.name, step]));
  }

  /** step runs `fn` unless a step of this name completed in an earlier attempt; either way it resolves to the stored (JSON) result. */
  async step<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    const ordinal = this.begin(name);
    const done = this.stored.get(name);
    if (done?.status === 'completed') return (done.result ?? null) as T;
    const total = this.deps.declaredSteps.length;
    const label = total > 0 ? `step ${ordinal}/${total}: ${name}` : `step ${ordinal}: ${name}`;
    await this.deps.progress(total > 0 ? (ordinal - 1) / total : (this.deps.job.progress ?? 0), label);
    const startedAt = this.now().toISOString();
    let value: T;
    try {
      value = await fn();
    } catch (error) {
      const failure = error instanceof Error ? { message: error.message, name: error.name } : { message: String(error) };
      // The failure is best recorded; the handler's error is what the attempt reports.
      await this.record({
        name,
        status: 'failed',
        attempt: this.deps.job.attempt,
        startedAt,
        finishedAt: this.isoNow(),
        error: failure,
      }).catch(() => {});
      throw error;
    }
    const issues: ValidationIssue[] = [];
    const result = toJson(value, `steps.${name}`, issues);
    if (issues.length > 0) throw new ValidationError('Step result cannot be stored', issues);
    await this.record({
      name,
      status: 'completed',
      attempt: this.deps.job.attempt,
      startedAt,
      finishedAt: this.isoNow(),
      result,
    });
    return result as T;
  }

  /**
   * sleepUntil parks the job until `wakeAt`: the attempt ends without spending an attempt and
   * without holding a worker slot, and the job runs again from the start at `wakeAt`, where
   * this call returns. The first wake time recorded for the name stands on later runs.
   */
  async sleepUntil(name: string, wakeAt: Date): Promise<void> {
    if (!(wakeAt instanceof Date) || Number.isNaN(wakeAt.getTime())) {
      throw new ValidationError('Invalid sleep', [{ path: 'wakeAt', message: 'expected a valid Date' }]);
    }
    this.begin(name);
    const stored = this.stored.get(name);
    if (stored?.status === 'completed') return;
    const until = stored?.status === 'sleeping' && stored.wakeAt !== undefined ? new Date(stored.wakeAt) : wakeAt;
    const now = this.now();
    const startedAt = stored?.startedAt ?? now.toISOString();
    const step = { name, attempt: this.deps.job.attempt, startedAt, wakeAt: until.toISOString() };
    if (until.getTime() <= now.getTime()) {
      await this.record({ ...step, status: 'completed', finishedAt: now.toISOString() });
      return;
    }
    if (stored?.status !== 'sleeping') await this.record({ ...step, status: 'sleeping', finishedAt: null });
    throw new SnoozeError(
      until.getTime() - now.getTime(),
      `Job sleeping until ${until.toISOString()} (step ${JSON.stringify(name)})`,
    );
  }

  /** begin checks a step name and that it is new in this attempt; returns its 1-based position. */
  private begin(name: string): number {
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_STEP_NAME_LENGTH) {
      throw new ValidationError('Invalid step', [
        { path: 'name', message: `expected a non-empty string of at most ${MAX_STEP_NAME_LENGTH} characters` },
      ]);
    }
    if (this.used.has(name)) {
      throw new ValidationError('Invalid step', [
        { path: 'name', message: `step ${JSON.stringify(name)} already ran in this job` },
      ]);
    }
    this.deps.signal().throwIfAborted();
    this.used.add(name);
    const declared = this.deps.declaredSteps.indexOf(name);
    return declared === -1 ? this.used.size : declared + 1;
  }

  private async record(step: JobStep): Promise<void> {
    if (!(await this.deps.save(step))) throw this.deps.leaseLost();
    this.stored.set(step.name, step);
  }

  private now(): Date {
    return this.deps.clock.now();
  }

  private isoNow(): string {
    return this.now().toISOString();
  }
}
