import { describe } from 'node:test';
import { apiTokenSuite } from './api-token.js';
import { auditSuite } from './audit.js';
import { cancelRetrySuite } from './cancel-retry.js';
import { claimSuite } from './claim.js';
import { dependenciesSuite } from './dependencies.js';
import { crossProcessEventsSuite, eventsSuite } from './events.js';
import type { MakeStore } from './fixtures.js';
import { healthSuite } from './health.js';
import { insertSuite } from './insert.js';
import { leaseSuite } from './lease.js';
import { leasedInsertSuite } from './leased-insert.js';
import { listSuite } from './list.js';
import { migrateSuite } from './migrate.js';
import { notifySuite } from './notify.js';
import { queuePauseSuite } from './queue-pause.js';
import { rateLimitSuite } from './rate-limit.js';
import { scheduleSuite } from './schedule.js';
import { settleSuite } from './settle.js';
import { stepsSuite } from './steps.js';

export type { MakeStore } from './fixtures.js';

const AREAS: [string, (makeStore: MakeStore) => void][] = [
  ['insert', insertSuite],
  ['leased insert (local hand-off)', leasedInsertSuite],
  ['claim', claimSuite],
  ['settle', settleSuite],
  ['lease', leaseSuite],
  ['durable steps', stepsSuite],
  ['job dependencies', dependenciesSuite],
  ['cancel, retry and delete', cancelRetrySuite],
  ['list, stats and prune', listSuite],
  ['health and schema version', healthSuite],
  ['notify', notifySuite],
  ['queue pause', queuePauseSuite],
  ['events', eventsSuite],
  ['schedule', scheduleSuite],
  ['API tokens', apiTokenSuite],
  ['rate limit', rateLimitSuite],
  ['audit log', auditSuite],
  ['migrate and lifecycle', migrateSuite],
];

/**
 * exerciseStore registers the Store conformance suite for one store kind. `makeStore` is
 * called before every test and must return a fresh, migrated, empty store with a way into
 * its migrations table; its cleanup runs after the test. `crossProcessNotify` says the
 * store's capability of that name, which adds the rules of events between stores.
 */
export function exerciseStore(name: string, makeStore: MakeStore, { crossProcessNotify = false } = {}): void {
  describe(name, () => {
    for (const [area, suite] of AREAS) describe(area, () => suite(makeStore));
    // Only a store that notifies other processes has rules for events between stores.
    if (crossProcessNotify) describe('events between stores', () => crossProcessEventsSuite(makeStore));
  });
}
