import { timingSafeEqual } from 'node:crypto';
import { type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import { AuthUnavailableError } from '../../errors/index.js';
import type { Store } from '../../store/index.js';
import { type Clock, isRole, ROLES, type Role } from '../../types/index.js';
import type { Principal } from '../access.js';
import { hashTokenSecret, isApiTokenSecret } from './api-tokens.js';
import { type ResolvedAuth, type ResolvedJwt, sha256 } from './options.js';

/** Authentication is who a request's credentials name, or why they name no one (said in the 401). */
export type Authentication = { principal: Principal } | { failure: string; missing: boolean };

/** DEV_PRINCIPAL is the caller a dev token authenticates as. */
export const DEV_PRINCIPAL: Principal = { id: 'dev', name: 'dev token', role: 'admin', via: 'dev-token' };

/** ANONYMOUS_ADMIN is every caller when auth is turned off. */
export const ANONYMOUS_ADMIN: Principal = { id: 'anonymous', name: 'anonymous', role: 'admin', via: 'anonymous' };

/** An API key's lastUsedAt is written at most this often: a read per request, not a write. */
const LAST_USED_PRECISION_MS = 60_000;

/** Longest `Authorization` value read; a longer one is refused unread. */
const MAX_AUTHORIZATION_LENGTH = 4096;

/** The `Authorization` value: the Bearer scheme (any case), one token, optional trailing spaces (RFC 6750). */
const BEARER = /^bearer +([\x21-\x7e]+) *$/i;

/**
 * createAuthenticator returns the function that reads an `Authorization` header value and
 * names its principal. Credentials are tried cheapest first: the dev token (in memory,
 * constant time), an API key (a store lookup, only for values shaped like one), then a JWT.
 * It throws only when the store or the key set cannot be reached.
 */
export function createAuthenticator(
  auth: Extract<ResolvedAuth, { enabled: true }>,
  store: Store,
  clock: Clock,
): (header: unknown) => Promise<Authentication> {
  return async (header) => {
    if (header === undefined || header === '') {
      return { failure: 'No credentials: send Authorization: Bearer <token>', missing: true };
    }
    const token = typeof header === 'string' && header.length <= MAX_AUTHORIZATION_LENGTH ? BEARER.exec(header)?.[1] : undefined;
    if (token === undefined) {
      return { failure: 'Malformed Authorization header: expected Bearer <token>', missing: false };
    }
    if (auth.devTokenHash !== null && timingSafeEqual(sha256(token), auth.devTokenHash)) return { principal: DEV_PRINCIPAL };
    if (auth.apiKeys && isApiTokenSecret(token)) {
      const apiToken = await store.tokenFindByHash({ secretHash: hashTokenSecret(token) });
      if (apiToken === null) return { failure: 'Unknown or revoked API key', missing: false };
      const now = clock.now();
      if (apiToken.lastUsedAt === null || now.getTime() - apiToken.lastUsedAt.getTime() >= LAST_USED_PRECISION_MS) {
        await store.tokenMarkUsed({ id: apiToken.id, now });
      }
      return { principal: { id: apiToken.id, name: apiToken.name, role: apiToken.role, via: 'api-key' } };
    }
    if (auth.jwt !== null && token.split('.').length === 3) return verifyJwt(auth.jwt, token, clock);
    return { failure: 'Unrecognised bearer token', missing: false };
  };
}

async function verifyJwt(jwt: ResolvedJwt, token: string, clock: Clock): Promise<Authentication> {
  let payload: JWTPayload;
  try {
    const options = { algorithms: jwt.algorithms, issuer: jwt.issuer, audience: jwt.audience, currentDate: clock.now() };
    ({ payload } = await jwtVerify(token, jwt.key, options));
  } catch (error) {
    return { failure: `Invalid JWT: ${jwtFailure(error)}`, missing: false };
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') return { failure: 'Invalid JWT: no "sub" claim', missing: false };
  const role = strongestRole(payload[jwt.roleClaim]);
  if (role === null) {
    return { failure: `Invalid JWT: the "${jwt.roleClaim}" claim names no role (${ROLES.join(', ')})`, missing: false };
  }
  const name = typeof payload.name === 'string' && payload.name !== '' ? payload.name : payload.sub;
  return { principal: { id: payload.sub, name, role, via: 'jwt' } };
}

/** jwtFailure says why jose refused a token; it throws AuthUnavailableError when the key set could not be had. */
function jwtFailure(error: unknown): string {
  if (!(error instanceof joseErrors.JOSEError) || error instanceof joseErrors.JWKSTimeout || error.code === 'ERR_JOSE_GENERIC') {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AuthUnavailableError(`The JWT key set could not be fetched: ${reason}`, { cause: error });
  }
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim "${error.claim}" ${error.reason}`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the key set matches';
  return 'malformed';
}

/** strongestRole reads a role claim: a role name, or an array of values of which the most powerful role counts. */
function strongestRole(claim: unknown): Role | null {
  const values = Array.isArray(claim) ? claim : [claim];
  const roles = values.filter(isRole);
  return roles.length === 0 ? null : roles.reduce((best, role) => (ROLES.indexOf(role) > ROLES.indexOf(best) ? role : best));
}
