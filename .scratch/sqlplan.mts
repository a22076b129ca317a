import Database from 'better-sqlite3';
import { pino } from 'pino';
import { defineTask, Jobyard } from '../src/index.js';
import { createSqliteStore } from '../src/stores/sqlite/store.js';
import * as SQL from '../src/stores/sqlite/sql.js';
const file = `/tmp/plan-${process.pid}.db`;
const store = await createSqliteStore({ filename: file });
await store.migrate();
const task = defineTask('noop', { handler: () => null });
const client = new Jobyard({ store, tasks: [task], logger: pino({ level: 'warn' }) });
for (let i = 0; i < 50000; i += 10000) await client.enqueueMany(task, Array.from({ length: 10000 }, (_, n) => ({ n: i + n })));
await client.close();
const db = new Database(file);
for (const [name, text] of [['candidates', SQL.JOB_CLAIM_CANDIDATES], ['claim', SQL.JOB_CLAIM], ['live', SQL.SCHEDULE_LIVE_JOBS]] as const) {
  console.log(name, db.prepare('EXPLAIN QUERY PLAN ' + text).all({ queue: 'default', now: Date.now(), limit: 500, id: 'x', workerId: 'w', leaseToken: 't', leaseExpiresAt: 1, result: null, scheduleId: 'x' }).map((r: any) => r.detail));
}
const ids = db.prepare(SQL.JOB_CLAIM_CANDIDATES).all({ queue: 'default', now: Date.now(), limit: 500 }) as { id: string }[];
const st = db.prepare(SQL.JOB_CLAIM);
let t = performance.now();
db.transaction(() => { for (const { id } of ids) st.get({ id, now: Date.now(), workerId: 'w', leaseToken: 'tok' + id, leaseExpiresAt: Date.now() + 30000 }); })();
console.log('per claim update µs', ((performance.now() - t) * 1000 / ids.length).toFixed(1));
function timeIt(label: string, text: string) {
  const ids = db.prepare(SQL.JOB_CLAIM_CANDIDATES).all({ queue: 'default', now: Date.now(), limit: 500 }) as { id: string }[];
  const st = db.prepare(text);
  const t = performance.now();
  db.transaction(() => { for (const { id } of ids) st.run({ id, now: Date.now(), workerId: 'w', leaseToken: 'tok' + id, leaseExpiresAt: Date.now() + 30000 }); })();
  console.log(label, ((performance.now() - t) * 1000 / ids.length).toFixed(1), 'µs');
}
timeIt('claim run()', SQL.JOB_CLAIM);
timeIt('plain update by id', `UPDATE jobyard_jobs SET status='running', lease_token=@leaseToken, started_at=@now, lease_owner=@workerId, lease_expires_at=@leaseExpiresAt WHERE id=@id`);
console.log(db.pragma('cache_size'), db.pragma('page_size'), db.prepare('select count(*) c from jobyard_jobs').get());

timeIt('without live_schedule index', SQL.JOB_CLAIM);
db.pragma('cache_size = -64000');
timeIt('cache 64MB', SQL.JOB_CLAIM);
console.log(db.prepare('EXPLAIN QUERY PLAN ' + SQL.SCHEDULE_LIVE_JOBS).all({ scheduleId: 'x' }).map((r: any) => r.detail));
