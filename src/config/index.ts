/**
 * The configuration module the CLI loads (`jobyard.config.ts` by default): which store, which
 * tasks and schedules, and the options of the worker, the scheduler and the HTTP service.
 * Environment variables and command-line flags override it (see docs/cli.md).
 */
import type { AnyTask, Jobyard, JobyardOptions, WorkerOptions } from '../core/index.js';
import type { ScheduleDefinition, Scheduler, SchedulerOptions } from '../scheduler/index.js';
import type { JobyardServiceOptions } from '../service/plugin.js';
import type { Store } from '../store/index.js';
import type { PostgresStoreOptions } from '../stores/postgres/store.js';
import type { SqliteStoreOptions } from '../stores/sqlite/store.js';

/**
 * StoreDescription names a store for the CLI to open (and migrate), so that environment
 * variables and flags can still choose another: `DATABASE_URL` or `--database` replace it.
 */
export type StoreDescription =
  | ({ kind: 'sqlite' } & SqliteStoreOptions)
  | ({ kind: 'postgres' } & Omit<PostgresStoreOptions, 'pool'>);

/** SetupContext is what a config's `setup` hook gets: the client the CLI built, and its scheduler when one runs. */
export interface SetupContext {
  client: Jobyard;
  scheduler: Scheduler | null;
}

/**
 * JobyardConfig configures `jobyard serve`, `jobyard worker` and the admin commands. Every
 * option of the HTTP service plugin but the client and scheduler (which the CLI builds) is
 * accepted at the top level and handed to it unchanged.
 */
export interface JobyardConfig extends Omit<JobyardServiceOptions, 'client' | 'scheduler'> {
  /**
   * The store: an instance (used as it is; `DATABASE_URL` and `--database` do not replace
   * it), or a description the CLI opens. @defaultValue `{ kind: 'sqlite', filename: './jobyard.db' }`
   */
  store?: Store | StoreDescription;
  /** Tasks the client can enqueue by name and the worker runs. @defaultValue [] */
  tasks?: AnyTask[];
  /**
   * Schedules declared (upserted) at every start of `serve`, by id; a runtime pause or edit
   * survives restarts while the definition stays the same (docs/scheduler.md). @defaultValue {}
   */
  schedules?: Record<string, ScheduleDefinition>;
  /** Options of the client (clock, logger, rescuer). @defaultValue the client's defaults */
  client?: Omit<JobyardOptions, 'store' | 'tasks'>;
  /** Options of the worker that `serve` and `worker` run. @defaultValue the worker's defaults */
  worker?: WorkerOptions;
  /** Options of the scheduler that `serve` runs. @defaultValue the scheduler's defaults */
  scheduler?: SchedulerOptions;
  /** Port of the HTTP API; `PORT` and `--port` override it. @defaultValue 3000 */
  port?: number;
  /** Address the HTTP API listens on; `HOST` and `--host` override it. @defaultValue '127.0.0.1' */
  host?: string;
  /**
   * How long, in ms, a stopping `serve` or `worker` (SIGINT, SIGTERM) lets running jobs
   * finish before handing them back. @defaultValue 10000
   */
  graceMs?: number;
  /**
   * Called by `serve` and `worker` once the client exists, before the worker and scheduler
   * start: subscribe to events, enqueue seed jobs. @defaultValue none
   */
  setup?: (context: SetupContext) => void | Promise<void>;
}

/** defineConfig returns the config unchanged; it exists so that an editor checks and completes `jobyard.config.ts`. */
export function defineConfig(config: JobyardConfig): JobyardConfig {
  return config;
}
