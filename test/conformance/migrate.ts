import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { SchemaTooNewError } from '../../src/errors/index.js';
import type { Store } from '../../src/store/index.js';
import { type MakeStore, useFreshDatabase } from './fixtures.js';

const T0 = new Date('2026-03-01T12:00:00.000Z');

/**
 * OUT_OF_ORDER are the migrations that main's history listed after ones with higher
 * versions (the auth and limits branches merged after steps and dependencies): both stores
 * name them alike, with versions below their newest.
 */
const OUT_OF_ORDER = ['api_tokens', 'rate_limits_and_audit_log'] as const;

/** assertServiceTablesWork uses what the OUT_OF_ORDER migrations created: API tokens, rate limits, the audit log. */
async function assertServiceTablesWork(store: Store): Promise<void> {
  const secretHash = createHash('sha256').update(randomUUID()).digest('hex');
  const token = await store.tokenInsert({
    token: { id: randomUUID(), name: 'ci', role: 'operator', secretHash, createdAt: T0 },
  });
  assert.deepEqual(await store.tokenFindByHash({ secretHash }), token);
  const take = await store.rateLimitTake({ key: 'user:ada', limit: 5, windowMs: 300_000, now: T0 });
  assert.equal(take.allowed, true);
  assert.equal(take.remaining, 4);
  const entry = await store.auditAppend({
    entry: {
      at: T0,
      principal: { id: token.id, name: 'ci', role: 'operator' },
      action: 'jobs.cancel',
      target: null,
      outcome: 'success',
      status: 200,
      requestId: 'req-1',
      clientAddress: '127.0.0.1',
    },
  });
  assert.deepEqual((await store.auditList({ filter: {}, limit: 10 })).entries, [entry]);
}

export function migrateSuite(makeStore: MakeStore): void {
  const fresh = useFreshDatabase(makeStore);
  const store = () => fresh().store;

  it('applies nothing to a migrated store and keeps its version', async () => {
    const first = await store().migrate();
    assert.deepEqual(first.applied, []);
    assert.ok(Number.isInteger(first.version) && first.version >= 1, `version ${first.version}`);
    assert.deepEqual(first.version, Math.max(...(await fresh().migrationsTable.recorded())));
    assert.deepEqual(await store().migrate(), first);
  });

  it('survives concurrent migrate calls', async () => {
    const { version } = await store().migrate();
    const results = await Promise.all(Array.from({ length: 5 }, () => store().migrate()));
    assert.deepEqual(
      results,
      Array.from({ length: 5 }, () => ({ applied: [], version })),
    );
  });

  it('applies the listed migrations a database never recorded, though it recorded higher versions', async () => {
    const { migrationsTable } = fresh();
    const all = await migrationsTable.recorded();
    const skipped = await migrationsTable.unapply(OUT_OF_ORDER);
    assert.equal(skipped.length, OUT_OF_ORDER.length);
    const newest = Math.max(...all);
    // The history of main: versions above the skipped ones were recorded first (SQLite 9
    // and 10 before 6 and 7; PostgreSQL 8 and 9 before 5 and 6).
    assert.ok(
      skipped.every((version) => version < newest),
      `${skipped} below ${newest}`,
    );
    assert.deepEqual(
      await migrationsTable.recorded(),
      all.filter((version) => !skipped.includes(version)),
    );

    assert.deepEqual(await store().schemaVersion(), { applied: newest, expected: newest, pending: skipped, unknown: [] });
    assert.deepEqual(await store().migrate(), { applied: skipped, version: newest });
    assert.deepEqual(await store().schemaVersion(), { applied: newest, expected: newest, pending: [], unknown: [] });
    assert.deepEqual(await migrationsTable.recorded(), all);
    await assertServiceTablesWork(store());
    assert.deepEqual(await store().migrate(), { applied: [], version: newest });
  });

  it('applies skipped migrations once among concurrent migrate calls', async () => {
    const { migrationsTable } = fresh();
    const all = await migrationsTable.recorded();
    const skipped = await migrationsTable.unapply(OUT_OF_ORDER);
    const results = await Promise.all(Array.from({ length: 5 }, () => store().migrate()));
    const version = Math.max(...all);
    assert.deepEqual(
      results.map((result) => result.applied).sort((a, b) => b.length - a.length),
      [skipped, [], [], [], []],
    );
    assert.ok(results.every((result) => result.version === version));
    assert.deepEqual(await migrationsTable.recorded(), all);
    await assertServiceTablesWork(store());
  });

  it('refuses a database that recorded a migration this code does not know with SchemaTooNewError, applying nothing', async () => {
    const { migrationsTable } = fresh();
    const known = await migrationsTable.recorded();
    const newest = Math.max(...known);
    const [tokens] = await migrationsTable.unapply(['api_tokens']);
    await migrationsTable.record(newest + 1, 'from_a_newer_jobyard');
    const before = await migrationsTable.recorded();
    assert.deepEqual(await store().schemaVersion(), {
      applied: newest + 1,
      expected: newest,
      pending: [tokens],
      unknown: [newest + 1],
    });
    await assert.rejects(store().migrate(), (error: unknown) => {
      assert.ok(error instanceof SchemaTooNewError);
      assert.match(
        error.message,
        new RegExp(`recorded migration ${newest + 1}, which this jobyard \\(schema version ${newest}\\)`),
      );
      return true;
    });
    assert.deepEqual(await migrationsTable.recorded(), before, 'the missing known migration was not applied either');
  });

  it('refuses a database that recorded an unknown version below its newest (another branch migrated it)', async () => {
    const { migrationsTable } = fresh();
    const known = await migrationsTable.recorded();
    const newest = Math.max(...known);
    // Versions start at 1: 0 stands for a number another branch took below the newest.
    const unknown = 0;
    assert.ok(!known.includes(unknown));
    await migrationsTable.record(unknown, 'from_another_branch');
    assert.deepEqual(await store().schemaVersion(), { applied: newest, expected: newest, pending: [], unknown: [unknown] });
    await assert.rejects(store().migrate(), (error: unknown) => {
      assert.ok(error instanceof SchemaTooNewError);
      assert.match(error.message, new RegExp(`recorded migration ${unknown}\\b`));
      return true;
    });
  });

  it('answers ping and names its kind', async () => {
    await store().ping();
    assert.ok(['sqlite', 'postgres'].includes(store().kind), `kind ${store().kind}`);
    assert.equal(typeof store().capabilities.crossProcessNotify, 'boolean');
    assert.equal(typeof store().capabilities.transactionalEnqueue, 'boolean');
  });

  it('closes idempotently', async () => {
    await store().close();
    await store().close();
  });
}
