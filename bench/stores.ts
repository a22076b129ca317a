/**
 * Opening an isolated store per scenario: a new SQLite file under the OS temp folder, or a
 * new PostgreSQL schema that is dropped afterwards. Dropping a schema and reading server
 * versions is database administration, not job work, so it goes through `pg` directly here
 * (as test/helpers/postgres.ts does); everything measured goes through the public API.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Store } from '../src/index.js';
import { createSqliteStore } from '../src/stores/sqlite/store.js';
import type { BenchOptions, StoreName } from './options.js';

/** IsolatedStore is a fresh, migrated, empty store and the way to get rid of it. */
export interface IsolatedStore {
  store: Store;
  /** Removes what the store left behind (file or schema); call after the client closed the store. */
  cleanup: () => Promise<void>;
}

/** SQLite keeps these files beside the database in WAL mode. */
const SQLITE_SIDE_FILE_SUFFIXES = ['', '-wal', '-shm', '-journal'];

/** openIsolatedStore opens a new store of the given kind. */
export async function openIsolatedStore(name: StoreName, options: BenchOptions): Promise<IsolatedStore> {
  return name === 'sqlite' ? openSqlite(options) : openPostgres(options);
}

async function openSqlite(options: BenchOptions): Promise<IsolatedStore> {
  const filename = join(tmpdir(), `jobyard-bench-${randomBytes(6).toString('hex')}.db`);
  const store = await createSqliteStore({ filename, synchronous: options.settings.sqliteSynchronous });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await Promise.all(SQLITE_SIDE_FILE_SUFFIXES.map((suffix) => rm(`${filename}${suffix}`, { force: true })));
    },
  };
}

async function openPostgres(options: BenchOptions): Promise<IsolatedStore> {
  // Loaded on demand so a SQLite-only run works without the PostgreSQL store.
  const { createPostgresStore } = await import('../src/stores/postgres/store.js');
  const schema = `jy_bench_${randomBytes(6).toString('hex')}`;
  const dropSchema = () => withPg(options.pgUrl, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  let store: Store;
  try {
    store = await createPostgresStore({ connectionString: options.pgUrl, schema });
  } catch (error) {
    await dropSchema();
    throw error;
  }
  return {
    store,
    cleanup: async () => {
      await store.close();
      await dropSchema();
    },
  };
}

/** DatabaseVersions describes the database servers and libraries in use. */
export interface DatabaseVersions {
  sqlite: string;
  postgres: string;
  /** PostgreSQL settings that change commit, vacuum and planning costs. */
  postgresSettings: string;
}

/** readDatabaseVersions asks each database for its version; an unreachable PostgreSQL is reported, not fatal. */
export async function readDatabaseVersions(pgUrl: string): Promise<DatabaseVersions> {
  const memory = new Database(':memory:');
  const sqlite = (memory.prepare('SELECT sqlite_version() AS version').get() as { version: string }).version;
  memory.close();
  try {
    return await withPg(pgUrl, async (client) => {
      const setting = async (name: string) => (await client.query(`SHOW ${name}`)).rows[0]?.[name] as string;
      return {
        sqlite,
        postgres: await setting('server_version'),
        postgresSettings: (
          await Promise.all(
            ['fsync', 'synchronous_commit', 'shared_buffers', 'autovacuum', 'jit'].map(
              async (name) => `${name}=${await setting(name)}`,
            ),
          )
        ).join(', '),
      };
    });
  } catch (error) {
    return { sqlite, postgres: `unreachable (${(error as Error).message})`, postgresSettings: '-' };
  }
}

/** withPg runs `work` on a short-lived connection (database administration, never job work). */
export async function withPg<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
