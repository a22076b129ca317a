import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createPostgresStore } from '../../src/stores/postgres/store.js';
import { freshPgStore } from '../helpers/postgres.js';
import { tempSqliteStore } from '../helpers/sqlite.js';

const T0 = new Date('2026-03-01T12:00:00.000Z');
const ENTRY = {
  at: T0,
  principal: { id: 'key_ci', name: 'ci', role: 'operator' },
  action: 'jobs.cancel',
  target: null,
  outcome: 'success' as const,
  status: 200,
  requestId: 'req-1',
  clientAddress: '127.0.0.1',
};

describe('PostgreSQL rate limits across processes', () => {
  it('admits exactly `limit` of takes raced from many pools, every window', async () => {
    const { schema, url, cleanup } = await freshPgStore();
    // Four stores with pools of their own stand for four processes sharing the database.
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => createPostgresStore({ connectionString: url, schema, poolMax: 6 })),
    );
    try {
      const params = { limit: 40, windowMs: 60_000 };
      for (let window = 0; window < 3; window++) {
        const now = new Date(T0.getTime() + window * params.windowMs);
        // Two keys raced at once: each admits its own limit, whatever the interleaving.
        const takes = Array.from({ length: 240 }, (_, index) =>
          (stores[index % stores.length] as (typeof stores)[number]).rateLimitTake({
            ...params,
            key: index % 2 === 0 ? 'even' : 'odd',
            now,
          }),
        );
        const results = await Promise.all(takes);
        for (const parity of [0, 1]) {
          const admitted = results.filter((result, index) => index % 2 === parity && result.allowed);
          assert.equal(admitted.length, 40, `window ${window}, key ${parity === 0 ? 'even' : 'odd'}`);
          assert.deepEqual(
            admitted.map((result) => result.remaining).sort((a, b) => a - b),
            Array.from({ length: 40 }, (_, index) => index),
            'each admitted take saw the one before it',
          );
        }
      }
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await cleanup();
    }
  });
});

describe('Audit entries are never updated', () => {
  it('PostgreSQL refuses an UPDATE of the audit log', async () => {
    const { store, schema, url, cleanup } = await freshPgStore();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const entry = await store.auditAppend({ entry: ENTRY });
      await assert.rejects(
        client.query(`UPDATE "${schema}".audit_log SET outcome = 'error' WHERE id = $1`, [entry.id]),
        /never updated/,
      );
      assert.deepEqual((await store.auditList({ filter: {}, limit: 1 })).entries, [entry]);
    } finally {
      await client.end();
      await cleanup();
    }
  });

  it('SQLite refuses an UPDATE of the audit log', async () => {
    const { store, filename, cleanup } = await tempSqliteStore();
    const db = new Database(filename);
    try {
      const entry = await store.auditAppend({ entry: ENTRY });
      assert.throws(
        () => db.prepare(`UPDATE jobyard_audit_log SET outcome = 'error' WHERE id = ?`).run(Number(entry.id)),
        /never updated/,
      );
      assert.deepEqual((await store.auditList({ filter: {}, limit: 1 })).entries, [entry]);
    } finally {
      db.close();
      await cleanup();
    }
  });
});
