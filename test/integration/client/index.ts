import { describe } from 'node:test';
import { cancelRetrySuite } from './cancel-retry.js';
import { concurrencySuite } from './concurrency.js';
import { dependenciesSuite } from './dependencies.js';
import { enqueueSuite } from './enqueue.js';
import { crossProcessEventsClientSuite, eventsSuite } from './events.js';
import type { MakeStore } from './fixtures.js';
import { handOffSuite } from './hand-off.js';
import { leaseSuite } from './lease.js';
import { prefetchSuite } from './prefetch.js';
import { queriesSuite } from './queries.js';
import { queueAdminSuite } from './queue-admin.js';
import { retryTimeoutSuite } from './retry-timeout.js';
import { shutdownSuite } from './shutdown.js';
import { stepsSuite } from './steps.js';
import { workerSuite } from './worker.js';

export type { MakeStore, TestDatabase } from './fixtures.js';

/**
 * exerciseClient runs the client's end-to-end suite (the public Jobyard API with real
 * workers) against one kind of store; every store runs it once, unchanged. Each test gets
 * a fresh database from `makeStore`.
 */
export function exerciseClient(name: string, makeStore: MakeStore, { crossProcessNotify = false } = {}): void {
  describe(`Jobyard client on ${name}`, () => {
    describe('enqueue', () => enqueueSuite(makeStore));
    describe('worker', () => workerSuite(makeStore));
    describe('retries and timeouts', () => retryTimeoutSuite(makeStore));
    describe('cancel and retry', () => cancelRetrySuite(makeStore));
    describe('concurrency keys', () => concurrencySuite(makeStore));
    describe('leases', () => leaseSuite(makeStore));
    describe('shutdown', () => shutdownSuite(makeStore));
    describe('prefetch', () => prefetchSuite(makeStore));
    describe('local hand-off', () => handOffSuite(makeStore));
    describe('queries', () => queriesSuite(makeStore));
    describe('queue pause and job delete', () => queueAdminSuite(makeStore));
    describe('durable steps', () => stepsSuite(makeStore));
    describe('job dependencies', () => dependenciesSuite(makeStore));
    describe('events', () => eventsSuite(makeStore));
    // Only for a store that notifies other processes (its crossProcessNotify capability).
    if (crossProcessNotify) describe('events between processes', () => crossProcessEventsClientSuite(makeStore));
  });
}
