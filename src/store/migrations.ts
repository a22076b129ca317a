import { SchemaTooNewError } from '../errors/index.js';
import type { SchemaVersion } from './store.js';

/**
 * compareMigrations compares the migrations of `known` with `recorded` (the versions a
 * database records as applied) as sets, not by a high-water mark: branches merge their
 * migrations out of order, so a database may have recorded 9 and 10 before the 6 and 7 that
 * a later merge listed, and those must still run. Returns the known migrations not recorded
 * (`pending`, in version order) and the recorded versions not known (`unknown`, ascending:
 * a newer jobyard, or another branch of it, migrated the database).
 */
export function compareMigrations<M extends { version: number }>(
  known: readonly M[],
  recorded: Iterable<number>,
): { pending: M[]; unknown: number[] } {
  const knownVersions = new Set(known.map((migration) => migration.version));
  const recordedVersions = new Set(recorded);
  return {
    pending: known.filter((migration) => !recordedVersions.has(migration.version)).sort((a, b) => a.version - b.version),
    unknown: [...recordedVersions].filter((version) => !knownVersions.has(version)).sort((a, b) => a - b),
  };
}

/**
 * pendingMigrations returns the migrations `migrate()` must apply, in version order (see
 * compareMigrations). Throws SchemaTooNewError when `recorded` holds a version `known`
 * lacks: this code cannot know what that schema means. Callers check under their migration
 * lock, before applying anything.
 */
export function pendingMigrations<M extends { version: number }>(known: readonly M[], recorded: Iterable<number>): M[] {
  const { pending, unknown } = compareMigrations(known, recorded);
  if (unknown.length > 0) throw new SchemaTooNewError(Math.max(...unknown), highestVersion(known.map((m) => m.version)));
  return pending;
}

/** schemaVersionOf describes a database that recorded `recorded` (nothing when never migrated) to code that knows `known`. */
export function schemaVersionOf(known: readonly { version: number }[], recorded: readonly number[]): SchemaVersion {
  const { pending, unknown } = compareMigrations(known, recorded);
  return {
    applied: highestVersion(recorded),
    expected: highestVersion(known.map((migration) => migration.version)),
    pending: pending.map((migration) => migration.version),
    unknown,
  };
}

function highestVersion(versions: readonly number[]): number {
  return Math.max(0, ...versions);
}
