import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { access } from '../access.js';
import type { EventFilter, EventStreams } from '../event-streams.js';
import { problemResponses } from '../schemas/common.js';
import { EventStreamResponse, EventsQuery } from '../schemas/event.js';

/** eventRoutes serves `GET /api/events`, the Server-Sent Events stream of job and schedule records. */
export const eventRoutes: FastifyPluginAsyncZod<{ streams: EventStreams }> = async (app, { streams }) => {
  app.get(
    '/api/events',
    {
      config: access('viewer', 'events.stream', { mutates: false }),
      schema: {
        tags: ['events'],
        operationId: 'streamEvents',
        summary: 'Stream job and schedule state changes (Server-Sent Events)',
        description:
          'Records of this service and, on PostgreSQL, of every process that publishes its events ' +
          '(`publishEvents`). Filters are checked before the stream starts: a bad value answers 400.',
        querystring: EventsQuery,
        response: { 200: EventStreamResponse, ...problemResponses(400, 503) },
      },
    },
    async (request, reply) => {
      const { queue, jobId, type } = request.query;
      const filter: EventFilter = {
        queues: toSet(queue),
        jobIds: toSet(jobId, (id) => id.toLowerCase()),
        types: toSet(type),
      };
      // open() writes the raw response itself (keeping headers that hooks set on the reply);
      // until it has, a failure still goes to the error handler as problem JSON, so the
      // reply is hijacked only afterwards, before Fastify looks at it again.
      await streams.open(reply.raw, filter, reply.getHeaders());
      reply.hijack();
    },
  );
};

/** toSet turns a query parameter given once or repeated into a set of its values; null when absent. */
function toSet<Value extends string>(
  values: Value | Value[] | undefined,
  normalize = (value: Value) => value,
): Set<Value> | null {
  if (values === undefined) return null;
  return new Set((Array.isArray(values) ? values : [values]).map(normalize));
}
