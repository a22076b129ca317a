/**
 * jobyard/service: the HTTP API over a Jobyard client (and optionally a Scheduler), as a
 * Fastify plugin to mount or as a ready server. A subpath export, so that apps which only
 * enqueue never load Fastify.
 */
export { type Principal, ROLES, type Role } from './access.js';
export {
  type AuditOptions,
  pruneServiceRecords,
  type ResolvedAuditOptions,
  type ServicePruneResult,
  ServicePruner,
} from './audit.js';
export {
  API_TOKEN_PREFIX,
  type CreatedApiToken,
  createApiToken,
  hashTokenSecret,
  listApiTokens,
  revokeApiToken,
} from './auth/api-tokens.js';
export type { AuthOptions, JwtOptions } from './auth/options.js';
export { type JobyardServiceOptions, jobyardService, type ResolvedServiceOptions, resolveServiceOptions } from './plugin.js';
export { problemType } from './problem.js';
export {
  RATE_LIMIT_PRESETS,
  type RateLimitRule,
  type RateLimitScope,
  type ResolvedRateLimitRule,
  type RouteRateLimitOptions,
  routeRateLimit,
} from './rate-limit.js';
export type { Problem } from './schemas/common.js';
export { createServer, type ServerOptions } from './server.js';
