import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { TokenNotFoundError } from '../../errors/index.js';
import type { Store } from '../../store/index.js';
import type { ApiToken, Role } from '../../types/index.js';

/** API_TOKEN_PREFIX starts every API key's secret, so that a leaked one is recognisable (secret scanners, logs). */
export const API_TOKEN_PREFIX = 'jy_';

/** The shape of a secret: the prefix and 32 random bytes in base64url (43 characters). */
const API_TOKEN_SECRET_PATTERN = /^jy_[A-Za-z0-9_-]{43}$/;

/** isApiTokenSecret tells whether a bearer token has the shape of an API key's secret (so is worth a store lookup). */
export function isApiTokenSecret(token: string): boolean {
  return API_TOKEN_SECRET_PATTERN.test(token);
}

/** hashTokenSecret is the SHA-256 (lower-case hex) of a secret: what the store keeps and looks keys up by. */
export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** CreatedApiToken is a new API key: the stored token and its secret, which nothing can show again. */
export interface CreatedApiToken {
  token: ApiToken;
  /** The bearer token to hand to the caller (`Authorization: Bearer <secret>`); only its hash is stored. */
  secret: string;
}

/**
 * createApiToken makes an API key with `name` (unique among live tokens: TokenNameTakenError
 * otherwise) and `role` (ValidationError for an unknown one), and returns its secret: 32
 * random bytes, stored only as their SHA-256, so this is the one chance to show it.
 */
export async function createApiToken(store: Store, params: { name: string; role: Role; now?: Date }): Promise<CreatedApiToken> {
  const secret = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const token = await store.tokenInsert({
    token: {
      id: randomUUID(),
      name: params.name,
      role: params.role,
      secretHash: hashTokenSecret(secret),
      createdAt: params.now ?? new Date(),
    },
  });
  return { token, secret };
}

/** listApiTokens lists API keys oldest first, without secrets; revoked ones only with `includeRevoked`. */
export function listApiTokens(store: Store, { includeRevoked = false }: { includeRevoked?: boolean } = {}): Promise<ApiToken[]> {
  return store.tokenList({ includeRevoked });
}

/**
 * revokeApiToken revokes the API key with this id or, failing that, the live key with this
 * name, and returns it (revoking a revoked key again changes nothing). Requests with it are
 * refused from then on. Throws TokenNotFoundError when neither matches.
 */
export async function revokeApiToken(
  store: Store,
  idOrName: string,
  { now = new Date() }: { now?: Date } = {},
): Promise<ApiToken> {
  const byId = await store.tokenRevoke({ id: idOrName, now });
  if (byId !== null) return byId.token;
  const named = (await store.tokenList({ includeRevoked: false })).find((token) => token.name === idOrName);
  const byName = named === undefined ? null : await store.tokenRevoke({ id: named.id, now });
  if (byName === null) throw new TokenNotFoundError(idOrName);
  return byName.token;
}
