/**
 * Database administration for the harness (dropping the schemas the systems created,
 * creating the pgbench database, reading server settings, vacuuming). It never touches a job: every
 * measured operation goes through each system's own API.
 */
import { withPg } from '../stores.js';

export { withPg };

/** dropSchema removes a schema the harness named (letters, digits and underscores only). */
export async function dropSchema(url: string, schema: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(schema)) throw new Error(`refusing to drop unexpected schema name "${schema}"`);
  await withPg(url, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}

/** schemaName turns a system tag and a run id into a schema name. */
export function schemaName(tag: string, runId: string): string {
  return `peers_${tag}_${runId}`;
}

/**
 * vacuumAnalyze runs VACUUM ANALYZE over the whole database, as autovacuum would have by
 * then on a server where it is on (this machine's server runs with autovacuum off). Every
 * PostgreSQL system gets it at the same point of scenario 5, after loading its history.
 */
export async function vacuumAnalyze(url: string): Promise<void> {
  await withPg(url, (client) => client.query('VACUUM ANALYZE'));
}
