import { describe } from 'node:test';
import { accessMatrixSuite } from './access-matrix.js';
import { auditSuite } from './audit.js';
import { authSuite } from './auth.js';
import { eventsSuite } from './events.js';
import type { MakeStore } from './fixtures.js';
import { fuzzSuite } from './fuzz.js';
import { healthSuite } from './health.js';
import { healthErrorsSuite } from './health-errors.js';
import { jobsSuite } from './jobs.js';
import { metricsSuite } from './metrics.js';
import { openApiSuite } from './openapi.js';
import { rateLimitsSuite } from './rate-limits.js';
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
    describe('readiness and job health', () => healthSuite(makeStore));
    describe('metrics', () => metricsSuite(makeStore));
    describe('OpenAPI and mounting', () => openApiSuite(makeStore));
    describe('auth and roles', () => authSuite(makeStore));
    describe('access matrix', () => accessMatrixSuite(makeStore));
    describe('rate limits', () => rateLimitsSuite(makeStore));
    describe('audit log', () => auditSuite(makeStore));
    describe('fuzz', () => fuzzSuite(makeStore));
  });
}
