import { type Logger, pino } from 'pino';
import type { JobyardConfig, StoreDescription } from '../config/index.js';
import { Jobyard } from '../core/index.js';
import type { Store } from '../store/index.js';
import { UsageError } from './exit-codes.js';
import { loadConfig } from './load-config.js';

/** GlobalOptions are the options every command takes. */
export interface GlobalOptions {
  config?: string;
  database?: string;
  json?: boolean;
}

/** OpenedClient is a client on the configured store, with what the banner says about the store. */
export interface OpenedClient {
  client: Jobyard;
  config: JobyardConfig;
  /** Where the jobs are, for people: `SQLite ./jobyard.db`, `PostgreSQL db.example.com:5432/app`. */
  where: string;
}

const DEFAULT_SQLITE_FILE = './jobyard.db';

/**
 * chooseStore picks the store from, in this order: `--database`, `DATABASE_URL` (PostgreSQL),
 * `JOBYARD_DB` (a SQLite file), the config's store, and SQLite at ./jobyard.db. A store
 * instance in the config is used as it is; `--database` with one is a usage error.
 */
export function chooseStore(
  config: JobyardConfig,
  database: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Store | StoreDescription {
  const configured = config.store;
  if (isStore(configured)) {
    if (database !== undefined) {
      throw new UsageError('--database cannot replace the store instance of the config: describe the store instead');
    }
    return configured;
  }
  if (database !== undefined) return storeOfDatabase(database, configured);
  if (env.DATABASE_URL) return storeOfDatabase(env.DATABASE_URL, configured);
  if (env.JOBYARD_DB) return storeOfDatabase(env.JOBYARD_DB, configured);
  return configured ?? { kind: 'sqlite', filename: DEFAULT_SQLITE_FILE };
}

/** storeOfDatabase reads a `--database` value: a postgres:// URL, else a SQLite file; the config's other store options stay. */
function storeOfDatabase(database: string, configured: StoreDescription | undefined): StoreDescription {
  if (database === '') throw new UsageError('--database needs a postgres:// URL or a SQLite file path');
  if (/^postgres(ql)?:\/\//.test(database)) {
    return { ...(configured?.kind === 'postgres' ? configured : {}), kind: 'postgres', connectionString: database };
  }
  return { ...(configured?.kind === 'sqlite' ? configured : {}), kind: 'sqlite', filename: database };
}

function isStore(value: JobyardConfig['store']): value is Store {
  return typeof (value as Store | undefined)?.jobClaim === 'function';
}

/** describeStore says where the jobs are, without credentials. */
export function describeStore(store: Store | StoreDescription): string {
  if ('jobClaim' in store) return `a ${store.kind} store given by the config`;
  if (store.kind === 'sqlite') return `SQLite ${store.filename ?? DEFAULT_SQLITE_FILE}`;
  const url = store.connectionString ?? process.env.DATABASE_URL;
  if (!url) return 'PostgreSQL (PG* environment variables)';
  try {
    const { host, pathname } = new URL(url);
    return `PostgreSQL ${host}${pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}

/**
 * openStore opens a described store (loading only its driver), migrated unless `migrate` is
 * false (the migrate command applies and reports the migrations itself).
 */
export async function openStore(store: Store | StoreDescription, { migrate = true } = {}): Promise<Store> {
  if ('jobClaim' in store) return store;
  if (store.kind === 'sqlite') {
    const { kind: _kind, ...options } = store;
    const { SqliteStore, createSqliteStore } = await import('../stores/sqlite/store.js');
    return migrate ? createSqliteStore(options) : new SqliteStore(options);
  }
  if (store.kind === 'postgres') {
    const { kind: _kind, ...options } = store;
    const { PostgresStore, createPostgresStore } = await import('../stores/postgres/store.js');
    return migrate ? createPostgresStore(options) : new PostgresStore(options);
  }
  throw new UsageError(
    `Unknown store kind ${JSON.stringify((store as { kind?: unknown }).kind)}: expected 'sqlite' or 'postgres'`,
  );
}

/** cliLogger logs to stderr, so that stdout holds only the command's output (`--json` stays parseable). */
export function cliLogger(): Logger {
  return pino({ name: 'jobyard', level: process.env.JOBYARD_LOG_LEVEL ?? 'warn' }, pino.destination(2));
}

/**
 * openClient loads the config and builds a client with its tasks on the chosen store.
 * `publishEvents` (what `serve` and `worker` ask for) is a default the config's `client` may
 * override: with it, the event streams of other processes on the same PostgreSQL database
 * see this one's jobs.
 */
export async function openClient(options: GlobalOptions, { publishEvents = false } = {}): Promise<OpenedClient> {
  const { config } = await loadConfig(options.config);
  const chosen = chooseStore(config, options.database);
  const store = await openStore(chosen);
  const client = new Jobyard({ logger: cliLogger(), publishEvents, ...config.client, store, tasks: config.tasks ?? [] });
  return { client, config, where: describeStore(chosen) };
}

/** withStore runs `work` with the configured store (no client: the API key commands need none) and closes it afterwards. */
export async function withStore<T>(options: GlobalOptions, work: (store: Store) => Promise<T>): Promise<T> {
  const { config } = await loadConfig(options.config);
  const store = await openStore(chooseStore(config, options.database));
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** withClient runs `work` with a client on the configured store and closes it afterwards. */
export async function withClient<T>(options: GlobalOptions, work: (opened: OpenedClient) => Promise<T>): Promise<T> {
  const opened = await openClient(options);
  try {
    return await work(opened);
  } finally {
    await opened.client.close({ graceMs: 0 });
  }
}
