import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SchemaTooNewError } from '../../src/errors/index.js';
import { pendingMigrations, schemaVersionOf } from '../../src/store/index.js';

const listed = [1, 2, 3, 6, 7, 9, 10].map((version) => ({ version, name: `m${version}` }));

describe('pendingMigrations', () => {
  it('returns every listed migration not recorded, in version order, below recorded ones too', () => {
    assert.deepEqual(
      pendingMigrations(listed, [10, 1, 2, 9]).map((migration) => migration.version),
      [3, 6, 7],
    );
    assert.deepEqual(pendingMigrations([...listed].reverse(), []), listed);
    assert.deepEqual(pendingMigrations(listed, [1, 2, 3, 6, 7, 9, 10]), []);
  });

  it('throws SchemaTooNewError for a recorded version it does not list, above or below its newest', () => {
    assert.throws(() => pendingMigrations(listed, [1, 2, 3, 6, 7, 9, 10, 11]), SchemaTooNewError);
    assert.throws(() => pendingMigrations(listed, [1, 2, 8]), /recorded migration 8, which this jobyard \(schema version 10\)/);
  });

  it('describes a schema by what it lacks and what it has beyond the code, not by its newest version alone', () => {
    assert.deepEqual(schemaVersionOf(listed, [1, 2, 3, 9, 10]), { applied: 10, expected: 10, pending: [6, 7], unknown: [] });
    assert.deepEqual(schemaVersionOf(listed, [1, 2, 3, 6, 7, 8, 9, 10, 11]), {
      applied: 11,
      expected: 10,
      pending: [],
      unknown: [8, 11],
    });
    assert.deepEqual(schemaVersionOf(listed, []), { applied: 0, expected: 10, pending: [1, 2, 3, 6, 7, 9, 10], unknown: [] });
  });
});
