import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type MakeStore, useFreshStore } from './fixtures.js';

export function migrateSuite(makeStore: MakeStore): void {
  const store = useFreshStore(makeStore);

  it('applies nothing to a migrated store and keeps its version', async () => {
    const first = await store().migrate();
    assert.deepEqual(first.applied, []);
    assert.ok(Number.isInteger(first.version) && first.version >= 1, `version ${first.version}`);
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
