import { SchemaTooNewError } from '../errors/index.js';

/**
 * pendingMigrations returns the migrations of `known` that `recorded` (the versions a
 * database records as applied) lacks, in version order. It compares sets, not a high-water
 * mark: branches merge their migrations out of order, so a database may have recorded 9 and
 * 10 before the 6 and 7 that a later merge listed, and those must still run.
 *
 * Throws SchemaTooNewError when `recorded` holds a version `known` lacks: a newer jobyard (or
 * another branch) migrated the database, and this code cannot know what that schema means.
 * Callers check this under their migration lock before applying anything.
 */
export function pendingMigrations<M extends { version: number }>(known: readonly M[], recorded: Iterable<number>): M[] {
  const knownVersions = new Set(known.map((migration) => migration.version));
  const recordedVersions = new Set(recorded);
  const unknown = [...recordedVersions].filter((version) => !knownVersions.has(version));
  if (unknown.length > 0) throw new SchemaTooNewError(Math.max(...unknown), Math.max(0, ...knownVersions));
  return known.filter((migration) => !recordedVersions.has(migration.version)).sort((a, b) => a.version - b.version);
}
