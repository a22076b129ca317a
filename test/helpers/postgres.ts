import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import pg from 'pg';
import type { Store } from '../../src/store/index.js';
import { createPostgresStore } from '../../src/stores/postgres/store.js';
import type { MigrationsTable } from './migrations-table.js';

const LOCAL_DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

/**
 * pgTestUrl is the database the PostgreSQL tests use: JOBYARD_TEST_PG, else the local
 * default on a developer machine. In CI a missing URL throws, so the suite fails rather
 * than passing without having run.
 */
export function pgTestUrl(): string {
  const url = process.env.JOBYARD_TEST_PG;
  if (url) return url;
  if (process.env.CI === 'true') {
    throw new Error('JOBYARD_TEST_PG is not set: the PostgreSQL tests cannot run in CI without a database URL');
  }
  return LOCAL_DEFAULT_URL;
}

/** One small admin pool per test process drops the test schemas. */
let adminPool: pg.Pool | undefined;

function admin(): pg.Pool {
  adminPool ??= new pg.Pool({ connectionString: pgTestUrl(), max: 2 });
  return adminPool;
}

after(async () => {
  await adminPool?.end();
  adminPool = undefined;
});

/** freshPgStore opens a migrated store on a new random schema; cleanup closes it and drops the schema. */
export async function freshPgStore(): Promise<{ store: Store; schema: string; url: string; cleanup: () => Promise<void> }> {
  const url = pgTestUrl();
  const schema = `jy_test_${randomBytes(8).toString('hex')}`;
  // The schema name is generated above from hex digits only, so quoting it is enough.
  const dropSchema = async () => {
    await admin().query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  };
  let store: Store;
  try {
    store = await createPostgresStore({ connectionString: url, schema });
  } catch (error) {
    // A migration that failed half way may have created the schema already.
    await dropSchema();
    throw error;
  }
  const cleanup = async () => {
    await store.close();
    await dropSchema();
  };
  return { store, schema, url, cleanup };
}

/** What the migrations that pgMigrationsTable can unapply created, by name (`$s` is the quoted schema; indexes and triggers go with their tables). */
const PG_MIGRATION_OBJECTS: Record<string, string> = {
  api_tokens: 'DROP TABLE $s.api_tokens',
  rate_limits_and_audit_log:
    'DROP TABLE $s.rate_limits; DROP FUNCTION $s.rate_limit_take; DROP TABLE $s.audit_log; DROP FUNCTION $s.audit_log_refuse_update',
};

/** pgMigrationsTable stages migration histories in the test schema `schema` (from freshPgStore), each call in one transaction. */
export function pgMigrationsTable(schema: string): MigrationsTable {
  const quoted = `"${schema}"`;
  const inTransaction = async <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await admin().connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  };
  return {
    recorded: async () =>
      (await admin().query<{ version: number }>(`SELECT version FROM ${quoted}.migrations ORDER BY version`)).rows.map(
        (row) => row.version,
      ),
    unapply: (names) =>
      inTransaction(async (client) => {
        const versions: number[] = [];
        for (const name of names) {
          const drop = PG_MIGRATION_OBJECTS[name];
          if (drop === undefined) throw new Error(`pgMigrationsTable cannot unapply ${name}`);
          await client.query(drop.replaceAll('$s', quoted));
          const deleted = await client.query<{ version: number }>(
            `DELETE FROM ${quoted}.migrations WHERE name = $1 RETURNING version`,
            [name],
          );
          versions.push(...deleted.rows.map((row) => row.version));
        }
        return versions.sort((a, b) => a - b);
      }),
    record: async (version, name) => {
      await admin().query(`INSERT INTO ${quoted}.migrations (version, name) VALUES ($1, $2)`, [version, name]);
    },
  };
}
