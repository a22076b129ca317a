import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ValidationError } from '../../src/errors/index.js';
import type { AuditListFilter, Store } from '../../src/store/index.js';
import type { AuditEntry, AuditEntryInput } from '../../src/types/index.js';
import { later, type MakeStore, useFreshStore } from './fixtures.js';

const T0 = new Date('2026-03-01T12:00:00.000Z');

/** auditEntry builds an entry input at `at`; overrides win. */
function auditEntry(at: Date, overrides: Partial<AuditEntryInput> = {}): AuditEntryInput {
  return {
    at,
    principal: { id: 'key_ci', name: 'ci', role: 'operator' },
    action: 'jobs.cancel',
    target: '01890000-0000-7000-8000-000000000000',
    outcome: 'success',
    status: 200,
    requestId: 'req-1',
    clientAddress: '127.0.0.1',
    ...overrides,
  };
}

/** listAll walks every page of a filtered audit list with `pageSize` and returns the entries in order. */
async function listAll(store: Store, filter: AuditListFilter, pageSize: number): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.auditList({ filter, after, limit: pageSize });
    assert.ok(page.entries.length <= pageSize);
    entries.push(...page.entries);
    if (page.nextCursor === null) return entries;
    assert.equal(page.nextCursor, page.entries.at(-1)?.id);
    after = page.nextCursor;
  }
}

export function auditSuite(makeStore: MakeStore): void {
  const store = useFreshStore(makeStore);

  it('appends an entry and reads it back field for field, with an id', async () => {
    const input = auditEntry(T0, { principal: { id: 'anonymous', name: 'anonymous', role: null }, target: null });
    const entry = await store().auditAppend({ entry: input });
    assert.match(entry.id, /^[1-9][0-9]*$/);
    assert.deepEqual(entry, { ...input, id: entry.id });
    assert.deepEqual((await store().auditList({ filter: {}, limit: 10 })).entries, [entry]);
  });

  it('lists newest first by recording order, whatever the times say, and pages without gap or overlap', async () => {
    // Times run against recording order, so only the id can explain the order.
    const appended: AuditEntry[] = [];
    for (let index = 0; index < 12; index++) {
      appended.push(await store().auditAppend({ entry: auditEntry(later(T0, -index * 1000), { requestId: `req-${index}` }) }));
    }
    const ids = appended.map((entry) => entry.id);
    assert.deepEqual(
      ids.map(Number),
      [...ids.map(Number)].sort((a, b) => a - b),
      'ids grow in recording order',
    );
    const newestFirst = [...appended].reverse();
    for (const pageSize of [1, 5, 12, 50]) {
      assert.deepEqual(await listAll(store(), {}, pageSize), newestFirst, `pages of ${pageSize}`);
    }
  });

  it('filters by principal, action, target, outcome and time range, alone and together', async () => {
    const specs: Partial<AuditEntryInput>[] = [
      { principal: { id: 'key_ci', name: 'ci', role: 'operator' }, action: 'jobs.cancel', target: 'a', outcome: 'success' },
      {
        principal: { id: 'key_ci', name: 'ci', role: 'operator' },
        action: 'jobs.retry',
        target: 'b',
        outcome: 'error',
        status: 409,
      },
      {
        principal: { id: 'key_ops', name: 'ops', role: 'admin' },
        action: 'jobs.cancel',
        target: 'b',
        outcome: 'denied',
        status: 429,
      },
      {
        principal: { id: 'anonymous', name: 'anonymous', role: null },
        action: 'jobs.enqueue',
        target: null,
        outcome: 'denied',
        status: 401,
      },
    ];
    const entries: AuditEntry[] = [];
    for (const [index, spec] of specs.entries()) {
      entries.push(await store().auditAppend({ entry: auditEntry(later(T0, index * 60_000), spec) }));
    }
    const [first, second, third, fourth] = entries as [AuditEntry, AuditEntry, AuditEntry, AuditEntry];
    const cases: [AuditListFilter, AuditEntry[]][] = [
      [{ principalId: 'key_ci' }, [second, first]],
      [{ principalId: 'anonymous' }, [fourth]],
      [{ action: 'jobs.cancel' }, [third, first]],
      [{ target: 'b' }, [third, second]],
      [{ outcome: 'denied' }, [fourth, third]],
      [{ from: later(T0, 60_000) }, [fourth, third, second]],
      [{ to: later(T0, 60_000) }, [first]],
      [{ from: later(T0, 60_000), to: later(T0, 180_000) }, [third, second]],
      [{ principalId: 'key_ci', target: 'b' }, [second]],
      [{ action: 'jobs.cancel', outcome: 'error' }, []],
      [{ principalId: 'nobody' }, []],
    ];
    for (const [filter, expected] of cases) {
      assert.deepEqual(await listAll(store(), filter, 1), expected, JSON.stringify(filter));
    }
  });

  it('prunes entries recorded before a time and keeps the rest', async () => {
    for (let minute = 0; minute < 5; minute++) await store().auditAppend({ entry: auditEntry(later(T0, minute * 60_000)) });
    assert.equal(await store().auditPrune({ olderThan: T0 }), 0);
    assert.equal(await store().auditPrune({ olderThan: later(T0, 120_000) }), 2);
    const left = (await store().auditList({ filter: {}, limit: 10 })).entries;
    assert.deepEqual(
      left.map((entry) => entry.at.getTime() - T0.getTime()),
      [240_000, 180_000, 120_000],
    );
    const next = await store().auditAppend({ entry: auditEntry(T0) });
    assert.ok(
      left.every((entry) => Number(entry.id) < Number(next.id)),
      'a pruned id is never given again',
    );
  });

  it('refuses a cursor that is not an entry id', async () => {
    for (const after of ['', 'abc', '-1', '01890000-0000-7000-8000-000000000000', '1'.repeat(30)]) {
      await assert.rejects(store().auditList({ filter: {}, after, limit: 10 }), ValidationError, after);
    }
  });
}
