import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import pg from 'pg';
import { Jobyard } from '../../src/core/index.js';
import { createServer } from '../../src/service/index.js';
import type { Store } from '../../src/store/index.js';
import { PostgresStore } from '../../src/stores/postgres/store.js';
import { SqliteStore } from '../../src/stores/sqlite/store.js';
import { pgTestUrl } from '../helpers/postgres.js';
import { sqliteMigrationsTable, tempSqliteStore } from '../helpers/sqlite.js';
import { silentLogger } from './service/fixtures.js';

/** A store opened without migrating: readiness must say so until migrate() runs. */
async function assertNotReadyUntilMigrated(store: Store): Promise<void> {
  const client = new Jobyard({ store, logger: silentLogger });
  const app = createServer({ client, logger: silentLogger, docs: false });
  try {
    const { pending } = await store.schemaVersion();
    const before = await app.inject({ method: 'GET', url: '/health/ready' });
    assert.equal(before.statusCode, 503, before.body);
    const body = before.json();
    assert.deepEqual(body.reasons, [
      `migrations: schema at version 0 lacks migrations ${pending.join(', ')}: run the migrations`,
    ]);
    assert.deepEqual(
      body.checks.map((check: { name: string; ok: boolean }) => [check.name, check.ok]),
      [
        ['store', true],
        ['migrations', false],
      ],
    );
    await store.migrate();
    const after = await app.inject({ method: 'GET', url: '/health/ready' });
    assert.equal(after.statusCode, 200, after.body);
  } finally {
    await app.close();
    await client.close();
  }
}

it('is not ready on an unmigrated SQLite database, and ready once migrated', async () => {
  const filename = join(tmpdir(), `jobyard-test-${randomUUID()}.db`);
  try {
    await assertNotReadyUntilMigrated(new SqliteStore({ filename }));
  } finally {
    await Promise.all(['', '-wal', '-shm'].map((suffix) => rm(`${filename}${suffix}`, { force: true })));
  }
});

it('is not ready on an unmigrated PostgreSQL schema, and ready once migrated', async () => {
  const schema = `jy_test_${randomBytes(8).toString('hex')}`;
  const connectionString = pgTestUrl();
  try {
    await assertNotReadyUntilMigrated(new PostgresStore({ connectionString, schema }));
  } finally {
    const admin = new pg.Pool({ connectionString, max: 1 });
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
});

it('is not ready while a migration below the newest is missing, nor with one the code does not know', async () => {
  const { store, filename, cleanup } = await tempSqliteStore();
  const client = new Jobyard({ store, logger: silentLogger });
  const app = createServer({ client, logger: silentLogger, docs: false });
  const ready = async () => (await app.inject({ method: 'GET', url: '/health/ready' })).json();
  try {
    const migrationsTable = sqliteMigrationsTable(filename);
    const { applied } = await store.schemaVersion();
    const skipped = await migrationsTable.unapply(['api_tokens', 'rate_limits_and_audit_log']);
    assert.deepEqual((await ready()).reasons, [
      `migrations: schema at version ${applied} lacks migrations ${skipped.join(', ')}: run the migrations`,
    ]);
    await store.migrate();
    assert.equal((await ready()).status, 'ready');
    await migrationsTable.record(applied + 1, 'from_a_newer_jobyard');
    assert.deepEqual((await ready()).reasons, [
      `migrations: schema has migrations ${applied + 1} that this code (version ${applied}) does not know`,
    ]);
  } finally {
    await app.close();
    await client.close();
    await cleanup();
  }
});
