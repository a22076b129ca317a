import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import pg from 'pg';
import type { Store } from '../../src/store/index.js';
import { createPostgresStore } from '../../src/stores/postgres/store.js';

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
