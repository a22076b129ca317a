import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { Jobyard } from '../../src/core/index.js';
import { createApiToken, createServer } from '../../src/service/index.js';
import { tempSqliteStore } from '../helpers/sqlite.js';
import { bearer, inject, noop, silentLogger } from './service/fixtures.js';

describe('An audit write that fails', () => {
  it('is logged, and the call is answered as if it had not failed', async () => {
    const { store, filename, cleanup } = await tempSqliteStore();
    const logLines: { level: number; msg: string; audit?: { action: string } }[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const client = new Jobyard({ store, tasks: [noop], logger: silentLogger });
    const app = createServer({ client, logger: pino({ level: 'error' }, sink), audit: { pruneIntervalMs: null } });
    try {
      await app.ready();
      const { secret } = await createApiToken(store, { name: 'ci', role: 'operator' });
      // Another connection takes the audit log away, so the service's insert fails.
      const other = new Database(filename);
      other.exec('DROP TABLE jobyard_audit_log');
      other.close();
      const answer = await inject(app, { method: 'POST', url: '/api/jobs', headers: bearer(secret), payload: { task: 'noop' } });
      assert.equal(answer.status, 201, answer.raw);
      assert.ok(await client.getJob(answer.body.id), 'the job was enqueued');
      const logged = logLines.find((line) => line.msg === 'audit entry not recorded');
      assert.ok(logged, JSON.stringify(logLines));
      assert.equal(logged.level, 50);
      assert.equal(logged.audit?.action, 'jobs.enqueue');
    } finally {
      await app.close();
      await client.close();
      await cleanup();
    }
  });
});
