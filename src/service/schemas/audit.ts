import { z } from 'zod';
import { AUDIT_ID_PATTERN } from '../../store/index.js';
import { AUDIT_OUTCOMES, type AuditEntry } from '../../types/index.js';
import { DateTime, DateTimeInput } from './common.js';

const AuditOutcomeSchema = z
  .enum(AUDIT_OUTCOMES as ['success', 'denied', 'error'])
  .describe('`success` (2xx), `denied` (401, 403, 429) or `error` (other 4xx and 5xx)');

/** AuditEntrySchema is one recorded call. */
export const AuditEntrySchema = z.object({
  id: z.string().describe('Grows in recording order'),
  at: DateTime,
  principal: z
    .object({
      id: z.string(),
      name: z.string(),
      role: z.string().nullable().describe('Null for a caller without accepted credentials (id `anonymous`)'),
    })
    .describe('Who called'),
  action: z.string().describe('The route action, e.g. `jobs.cancel`'),
  target: z.string().nullable().describe('What the call acted on: a job id, schedule id, queue or token id'),
  outcome: AuditOutcomeSchema,
  status: z.number().int().describe('The HTTP status of the answer'),
  requestId: z.string(),
  clientAddress: z.string(),
});

/** AuditPage is one page of audit entries. */
export const AuditPage = z.object({
  entries: z.array(AuditEntrySchema).describe('Newest first'),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
});

/** ListAuditQuery holds the filters of the audit log, as query parameters. */
export const ListAuditQuery = z.strictObject({
  principal: z.string().min(1).optional().describe('Principal id (`anonymous` for callers without credentials)'),
  action: z.string().min(1).optional(),
  target: z.string().min(1).optional(),
  outcome: AuditOutcomeSchema.optional(),
  from: DateTimeInput.optional().describe('Entries at or after this time'),
  to: DateTimeInput.optional().describe('Entries before this time'),
  cursor: z
    .string()
    .regex(AUDIT_ID_PATTERN, 'expected an audit entry id')
    .optional()
    .describe('`nextCursor` of the previous page'),
  limit: z.coerce.number().int().min(1).max(500).optional().describe('Page size. Default: 50'),
});

/** auditEntryBody is an audit entry as the API writes it. */
export function auditEntryBody(entry: AuditEntry): z.infer<typeof AuditEntrySchema> {
  return { ...entry, at: entry.at.toISOString() };
}
