import { describe } from 'node:test';
import { eventsSuite } from './events.js';
import type { MakeStore } from './fixtures.js';
import { fuzzSuite } from './fuzz.js';
import { healthErrorsSuite } from './health-errors.js';
import { jobsSuite } from './jobs.js';
import { openApiSuite } from './openapi.js';
import { noSchedulerSuite, schedulesSuite } from './schedules.js';

export type { MakeStore } from './fixtures.js';

/**
 * exerciseService runs the HTTP service end to end through Fastify's inject (and a real port
 * for the event streams) against one kind
 * of store; every store runs it once, unchanged. Each test gets a fresh database.
 */
export function exerciseService(name: string, makeStore: MakeStore): void {
  describe(`HTTP service on ${name}`, () => {
    describe('jobs and queues', () => jobsSuite(makeStore));
    describe('schedules', () => schedulesSuite(makeStore));
    describe('events (Server-Sent Events)', () => eventsSuite(makeStore));
    noSchedulerSuite(makeStore);
    describe('health and errors', () => healthErrorsSuite(makeStore));
    describe('OpenAPI and mounting', () => openApiSuite(makeStore));
    describe('fuzz', () => fuzzSuite(makeStore));
  });
}
