import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { TokenNameTakenError, ValidationError } from '../../src/errors/index.js';
import type { ApiTokenInsert } from '../../src/store/index.js';
import { later, type MakeStore, useFreshStore } from './fixtures.js';

const START = new Date('2026-03-01T00:00:00.000Z');

/** newToken builds a valid token insert named `name`, created at START; overrides win. */
function newToken(name: string, overrides: Partial<ApiTokenInsert> = {}): ApiTokenInsert {
  return {
    id: randomUUID(),
    name,
    role: 'operator',
    secretHash: createHash('sha256').update(`secret of ${name} ${randomUUID()}`).digest('hex'),
    createdAt: START,
    ...overrides,
  };
}

export function apiTokenSuite(makeStore: MakeStore): void {
  const store = useFreshStore(makeStore);

  it('inserts a token and finds it by the hash of its secret, never returning the hash', async () => {
    const insert = newToken('ci');
    const token = await store().tokenInsert({ token: insert });
    const expected = { id: insert.id, name: 'ci', role: 'operator', createdAt: START, lastUsedAt: null, revokedAt: null };
    assert.deepEqual(token, expected);
    assert.deepEqual(await store().tokenFindByHash({ secretHash: insert.secretHash }), expected);
    assert.equal(await store().tokenFindByHash({ secretHash: 'f'.repeat(64) }), null);
    assert.equal(await store().tokenFindByHash({ secretHash: '' }), null);
  });

  it('refuses a second live token with the same name with TokenNameTakenError, and writes nothing', async () => {
    await store().tokenInsert({ token: newToken('ci') });
    const duplicate = newToken('ci', { role: 'admin' });
    await assert.rejects(store().tokenInsert({ token: duplicate }), TokenNameTakenError);
    assert.equal(await store().tokenFindByHash({ secretHash: duplicate.secretHash }), null);
    assert.deepEqual(
      (await store().tokenList({ includeRevoked: true })).map((token) => token.role),
      ['operator'],
    );
  });

  it('lets only one of many concurrent inserts of a name win', async () => {
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => store().tokenInsert({ token: newToken('race') })));
    assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
    for (const result of results) {
      if (result.status === 'rejected') assert.ok(result.reason instanceof TokenNameTakenError, String(result.reason));
    }
  });

  it('refuses invalid roles, names and hashes with ValidationError', async () => {
    const invalid: Partial<ApiTokenInsert>[] = [
      { role: 'root' as never },
      { name: '' },
      { name: 'has space' },
      { name: 'x'.repeat(129) },
      { secretHash: 'plain-secret' },
      { secretHash: 'A'.repeat(64) },
    ];
    for (const overrides of invalid) {
      await assert.rejects(
        store().tokenInsert({ token: newToken('valid', overrides) }),
        ValidationError,
        JSON.stringify(overrides),
      );
    }
    assert.deepEqual(await store().tokenList({ includeRevoked: true }), []);
  });

  it('revokes a token: it is no longer found by hash, its name is free again, and revoking twice changes nothing', async () => {
    const insert = newToken('ci');
    const token = await store().tokenInsert({ token: insert });
    const revokedAt = later(START, 60_000);
    const revoked = await store().tokenRevoke({ id: token.id, now: revokedAt });
    assert.deepEqual(revoked, { token: { ...token, revokedAt }, applied: true });
    assert.equal(await store().tokenFindByHash({ secretHash: insert.secretHash }), null);
    const again = await store().tokenRevoke({ id: token.id, now: later(START, 120_000) });
    assert.deepEqual(again, { token: { ...token, revokedAt }, applied: false });
    assert.equal(await store().tokenRevoke({ id: 'no-such-token', now: START }), null);

    const successor = await store().tokenInsert({ token: newToken('ci', { createdAt: later(START, 1) }) });
    assert.equal(successor.name, 'ci');
    assert.equal((await store().tokenRevoke({ id: successor.id, now: revokedAt }))?.applied, true);
  });

  it('lists live tokens oldest first, and revoked ones on request', async () => {
    const third = await store().tokenInsert({ token: newToken('third', { createdAt: later(START, 2000) }) });
    const first = await store().tokenInsert({ token: newToken('first', { createdAt: START }) });
    const second = await store().tokenInsert({ token: newToken('second', { createdAt: later(START, 1000) }) });
    await store().tokenRevoke({ id: second.id, now: later(START, 5000) });
    assert.deepEqual(
      (await store().tokenList({ includeRevoked: false })).map((token) => token.id),
      [first.id, third.id],
    );
    const all = await store().tokenList({ includeRevoked: true });
    assert.deepEqual(
      all.map((token) => token.id),
      [first.id, second.id, third.id],
    );
    assert.deepEqual(all[1]?.revokedAt, later(START, 5000));
  });

  it('records when a token was last used, never moving it back', async () => {
    const insert = newToken('ci');
    const token = await store().tokenInsert({ token: insert });
    await store().tokenMarkUsed({ id: token.id, now: later(START, 5000) });
    await store().tokenMarkUsed({ id: token.id, now: later(START, 1000) });
    assert.deepEqual((await store().tokenFindByHash({ secretHash: insert.secretHash }))?.lastUsedAt, later(START, 5000));
    await store().tokenMarkUsed({ id: 'no-such-token', now: START });
  });
}
