/**
 * The access contract every route declares and the auth, rate-limit and audit hooks read:
 * who may call it (the least role, or `public`) and the action name it is known by in
 * roles, rate limits and the audit log.
 */

import { ROLES, type Role } from '../types/index.js';

export { ROLES, type Role } from '../types/index.js';

/** Principal is the caller a request was authenticated as. */
export interface Principal {
  /** Stable id: the API key's id, the JWT's subject, or `dev` / `anonymous`. */
  id: string;
  /** Human-readable name (the key's name, the JWT's subject). */
  name: string;
  role: Role;
  /** How the caller proved who it is; `anonymous` when auth is turned off. */
  via: 'api-key' | 'jwt' | 'dev-token' | 'anonymous';
}

/** RouteAccess is what a route declares in its `config.access`. */
export interface RouteAccess {
  /** The least role that may call the route, or `public` for no credentials at all (health). */
  role: Role | 'public';
  /** The action name, e.g. `jobs.enqueue`: used by rate limits and written to the audit log. */
  action: string;
  /** A mutating route: its calls are written to the audit log. */
  mutates: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** The authenticated caller; null before authentication and on public routes called without credentials. */
    principal: Principal | null;
  }
}

/** roleAllows says whether `role` may call a route that needs `needed`. */
export function roleAllows(role: Role, needed: Role | 'public'): boolean {
  return needed === 'public' || ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** access builds a route's `config` for the given least role and action; mutating unless it is a read. */
export function access(role: RouteAccess['role'], action: string, { mutates = true } = {}): { access: RouteAccess } {
  return { access: { role, action, mutates } };
}
