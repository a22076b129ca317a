import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Store } from '../../store/index.js';
import { access } from '../access.js';
import { AuditPage, auditEntryBody, ListAuditQuery } from '../schemas/audit.js';
import { problemResponses } from '../schemas/common.js';

/** DEFAULT_AUDIT_PAGE is the page size of an audit list that does not ask for one. */
const DEFAULT_AUDIT_PAGE = 50;

/** auditRoutes serves the audit log under /api/audit (admins only). */
export const auditRoutes: FastifyPluginAsyncZod<{ store: Store }> = async (app, { store }) => {
  app.get(
    '/api/audit',
    {
      config: access('admin', 'audit.list', { mutates: false }),
      schema: {
        tags: ['audit'],
        operationId: 'listAudit',
        summary: 'List audit entries of mutating calls, newest first, with filters and cursor pagination',
        querystring: ListAuditQuery,
        response: { 200: AuditPage, ...problemResponses(400) },
      },
    },
    async (request) => {
      const { principal, action, target, outcome, from, to, cursor, limit } = request.query;
      const page = await store.auditList({
        filter: {
          principalId: principal,
          action,
          target,
          outcome,
          from: from === undefined ? undefined : new Date(from),
          to: to === undefined ? undefined : new Date(to),
        },
        after: cursor,
        limit: limit ?? DEFAULT_AUDIT_PAGE,
      });
      return { entries: page.entries.map(auditEntryBody), nextCursor: page.nextCursor };
    },
  );
};
