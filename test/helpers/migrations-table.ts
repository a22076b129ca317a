/**
 * MigrationsTable reaches past a store into its database to stage migration histories that
 * the Store port cannot produce: a database migrated with another branch's list of
 * migrations, or by a newer jobyard. Each store's test helper implements it.
 */
export interface MigrationsTable {
  /** recorded lists the versions the database records as applied, ascending. */
  recorded(): Promise<number[]>;
  /**
   * unapply undoes the migrations named `names` as if they had never run: it drops what they
   * created and deletes their records. Returns their versions, ascending.
   */
  unapply(names: readonly string[]): Promise<number[]>;
  /** record records a migration as applied without running it, as a jobyard that knows it would have. */
  record(version: number, name: string): Promise<void>;
}
