/**
 * jobyard: durable background jobs for TypeScript services. The stores live in subpath
 * exports (`jobyard/stores/sqlite`, `jobyard/stores/postgres`) so an app loads only the
 * database driver it uses, and so does the HTTP service (`jobyard/service`), so an app that
 * only enqueues never loads Fastify.
 */
export * from './config/index.js';
export * from './core/index.js';
export * from './errors/index.js';
export * from './scheduler/index.js';
export type * from './store/index.js';
export * from './types/index.js';
