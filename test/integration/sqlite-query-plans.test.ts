import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import Database from 'better-sqlite3';
import * as SQL from '../../src/stores/sqlite/sql.js';
import { tempSqliteStore } from '../helpers/sqlite.js';

// Plans of statements that must read an index however large the history grows.
let database: Awaited<ReturnType<typeof tempSqliteStore>>;
let db: Database.Database;

before(async () => {
  database = await tempSqliteStore();
  db = new Database(database.filename, { readonly: true });
});

after(async () => {
  db.close();
  await database.cleanup();
});

function plan(sql: string, bindings: Record<string, unknown>): string {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(bindings) as { detail: string }[]).map((row) => row.detail).join('\n');
}

it('looks a dedup key up in its index, on every page, whatever the job status', () => {
  const bindings = { queue: null, task: null, statuses: null, metadata: null, tag: null, dedupKey: 'k', limit: 2, after: 'x' };
  for (const page of ['newest', 'older'] as const) {
    assert.match(plan(SQL.jobList(page, true), bindings), /USING INDEX jobyard_jobs_dedup_key \(dedup_key=\?/, page);
  }
});

it('finds stuck jobs among running jobs only, and counts finished jobs through the finished-at index', () => {
  assert.match(plan(SQL.JOB_STUCK, { stuckBefore: 0, limit: 10 }), /USING INDEX jobyard_jobs_lease_expiry/);
  assert.match(plan(SQL.JOB_FINISHED_COUNTS, { since: 0 }), /USING INDEX jobyard_jobs_prune \(finished_at>\?\)/);
});
