/** ROLES in increasing power: each role may do everything the ones before it may. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;

/** Role is what a principal may do: `viewer` reads, `operator` steers jobs and queues, `admin` does everything. */
export type Role = (typeof ROLES)[number];

/** isRole tells whether a value names one of ROLES. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/**
 * ApiToken is an API key as stored and listed: everything but its secret, which is shown once
 * at creation and kept only as a hash.
 */
export interface ApiToken {
  id: string;
  /** Unique among live (unrevoked) tokens; a revoked token's name may be given again. */
  name: string;
  role: Role;
  createdAt: Date;
  /** When the token last authenticated a request; approximate (recorded at most once a minute). */
  lastUsedAt: Date | null;
  /** When the token was revoked; a revoked token authenticates nothing. */
  revokedAt: Date | null;
}
