import { z } from 'zod';
import { API_TOKEN_NAME_PATTERN } from '../../store/index.js';
import { type ApiToken, ROLES } from '../../types/index.js';
import { DateTime } from './common.js';

const RoleSchema = z
  .enum(ROLES)
  .describe('viewer reads; operator also enqueues, retries, cancels, runs schedules now; admin does everything');

/** TokenSchema is an API key as the API lists it: never its secret. */
export const TokenSchema = z.object({
  id: z.string(),
  name: z.string().describe('Unique among live tokens'),
  role: RoleSchema,
  createdAt: DateTime,
  lastUsedAt: DateTime.nullable().describe('When it last authenticated a request (to the minute)'),
  revokedAt: DateTime.nullable(),
});

/** CreatedToken is a new API key with its secret, which no later answer shows. */
export const CreatedToken = TokenSchema.extend({
  secret: z.string().describe('Send it as `Authorization: Bearer <secret>`. Shown only in this answer: only its hash is stored'),
});

/** CreateTokenBody names a new API key and its role. */
export const CreateTokenBody = z.strictObject({
  name: z.string().regex(API_TOKEN_NAME_PATTERN, 'expected 1-128 characters of letters, digits and _ . : - / @'),
  role: RoleSchema,
});

/** ListTokensQuery asks for revoked tokens too. */
export const ListTokensQuery = z.strictObject({
  includeRevoked: z
    .enum(['true', 'false'])
    .optional()
    .transform((value) => value === 'true')
    .describe('List revoked tokens too. Default: false'),
});

/** TokenList lists API keys, oldest first. */
export const TokenList = z.object({ tokens: z.array(TokenSchema) });

/** TokenRefParams is the path of a token: its id or the name of a live token. */
export const TokenRefParams = z.object({ id: z.string().min(1).max(128).describe('The token id, or the name of a live token') });

/** tokenBody turns a stored token into its API form. */
export function tokenBody(token: ApiToken): z.infer<typeof TokenSchema> {
  return {
    ...token,
    createdAt: token.createdAt.toISOString(),
    lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
    revokedAt: token.revokedAt?.toISOString() ?? null,
  };
}
