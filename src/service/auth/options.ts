import { createHash } from 'node:crypto';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { OptionChecker } from '../../core/validation.js';

/**
 * AuthOptions configure how the service authenticates callers. Every credential travels as
 * `Authorization: Bearer <token>`; see docs/api.md (Authentication).
 */
export interface AuthOptions {
  /** Accept API keys (`jobyard token create`, `POST /api/tokens`), looked up in the store by their SHA-256. @defaultValue true */
  apiKeys?: boolean;
  /** Accept JWTs verified with this configuration. @defaultValue none: JWTs are refused */
  jwt?: JwtOptions;
  /**
   * A token that authenticates as an admin (the app or CLI passes `JOBYARD_DEV_TOKEN`; the
   * library reads no environment variable for it). It is kept in memory only, compared by
   * hash in constant time, and refused (the options do not validate) when `NODE_ENV` is
   * `production`: for local runs only. 1-512 visible ASCII characters.
   * @defaultValue none
   */
  devToken?: string;
}

/** JwtOptions say how to verify JWT bearer tokens (with `jose`): exactly one of `secret` and `jwksUrl`. */
export interface JwtOptions {
  /** Shared secret of HS256-signed tokens, at least 32 bytes. @defaultValue none */
  secret?: string | Uint8Array;
  /**
   * URL of the issuer's JSON Web Key Set (e.g. `https://issuer.example/.well-known/jwks.json`)
   * for asymmetrically signed tokens; keys are fetched on first use and cached by `jose`.
   * @defaultValue none
   */
  jwksUrl?: string | URL;
  /** The `iss` the token must carry (one of them, for a list). @defaultValue none: not checked */
  issuer?: string | string[];
  /** The `aud` the token must carry (one of them, for a list). @defaultValue none: not checked */
  audience?: string | string[];
  /**
   * The top-level claim that holds the caller's role: a role name, or an array of names of
   * which the most powerful known one counts. A token without a known role is refused (401).
   * @defaultValue 'role'
   */
  roleClaim?: string;
}

/** ResolvedJwt is a JWT configuration ready for `jwtVerify`. */
export interface ResolvedJwt {
  /** Resolves the verification key: the secret, or the JWKS key named by the token's header. */
  key: JWTVerifyGetKey;
  /** The algorithms accepted: HS256 for a secret; for a JWKS, those its keys declare. */
  algorithms: string[] | undefined;
  issuer: string | string[] | undefined;
  audience: string | string[] | undefined;
  roleClaim: string;
}

/** ResolvedAuth is the auth configuration validated: off, or the credentials accepted. */
export type ResolvedAuth =
  | { enabled: false }
  | { enabled: true; apiKeys: boolean; jwt: ResolvedJwt | null; devTokenHash: Buffer | null };

const DEV_TOKEN_PATTERN = /^[\x21-\x7e]{1,512}$/;
const MIN_HS256_SECRET_BYTES = 32;

/** sha256 is the digest the dev token is compared by (equal lengths, so timingSafeEqual applies). */
export function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * resolveAuthOptions checks `auth` (reporting problems to `checker` under `auth.`), applies
 * defaults and prepares the JWT key. `production` is whether NODE_ENV is `production`.
 */
export function resolveAuthOptions(
  auth: AuthOptions | false | undefined,
  checker: OptionChecker,
  { production }: { production: boolean },
): ResolvedAuth {
  if (auth === false) return { enabled: false };
  if (auth !== undefined && (typeof auth !== 'object' || auth === null)) {
    checker.problem('auth', 'expected an object, or false to turn authentication off');
    return { enabled: false };
  }
  const options = auth ?? {};
  if (options.apiKeys !== undefined && typeof options.apiKeys !== 'boolean')
    checker.problem('auth.apiKeys', 'expected a boolean');
  const apiKeys = options.apiKeys ?? true;
  let devTokenHash: Buffer | null = null;
  if (options.devToken !== undefined) {
    if (typeof options.devToken !== 'string' || !DEV_TOKEN_PATTERN.test(options.devToken)) {
      checker.problem('auth.devToken', 'expected 1-512 visible ASCII characters (no spaces)');
    } else if (production) {
      checker.problem(
        'auth.devToken',
        'a dev token (JOBYARD_DEV_TOKEN) is refused when NODE_ENV=production: create an API key (jobyard token create) or configure JWTs',
      );
    } else devTokenHash = sha256(options.devToken);
  }
  const jwt = options.jwt === undefined ? null : resolveJwtOptions(options.jwt, checker);
  if (!apiKeys && options.jwt === undefined && options.devToken === undefined) {
    checker.problem('auth', 'accepts no credentials: enable apiKeys, configure jwt or a devToken, or set auth: false');
  }
  return { enabled: true, apiKeys, jwt, devTokenHash };
}

function resolveJwtOptions(jwt: JwtOptions, checker: OptionChecker): ResolvedJwt | null {
  if (typeof jwt !== 'object' || jwt === null) {
    checker.problem('auth.jwt', 'expected an object with a secret or a jwksUrl');
    return null;
  }
  const roleClaim = jwt.roleClaim ?? 'role';
  if (typeof roleClaim !== 'string' || roleClaim === '') checker.problem('auth.jwt.roleClaim', 'expected a claim name');
  for (const field of ['issuer', 'audience'] as const) {
    const value = jwt[field];
    const valid =
      value === undefined ||
      (typeof value === 'string' && value !== '') ||
      (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string' && item !== ''));
    if (!valid) checker.problem(`auth.jwt.${field}`, 'expected a non-empty string or array of them');
  }
  const common = { issuer: jwt.issuer, audience: jwt.audience, roleClaim };
  if ((jwt.secret === undefined) === (jwt.jwksUrl === undefined)) {
    checker.problem('auth.jwt', 'expected exactly one of secret (HS256) and jwksUrl');
    return null;
  }
  if (jwt.secret !== undefined) {
    const key = typeof jwt.secret === 'string' ? new TextEncoder().encode(jwt.secret) : jwt.secret;
    if (!(key instanceof Uint8Array) || key.length < MIN_HS256_SECRET_BYTES) {
      checker.problem('auth.jwt.secret', `expected at least ${MIN_HS256_SECRET_BYTES} bytes (HS256 needs a 256-bit key)`);
      return null;
    }
    return { key: () => key, algorithms: ['HS256'], ...common };
  }
  let url: URL;
  try {
    url = new URL(jwt.jwksUrl as string | URL);
  } catch {
    checker.problem('auth.jwt.jwksUrl', 'expected an absolute http(s) URL');
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    checker.problem('auth.jwt.jwksUrl', 'expected an absolute http(s) URL');
    return null;
  }
  return { key: createRemoteJWKSet(url), algorithms: undefined, ...common };
}
