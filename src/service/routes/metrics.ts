import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { access } from '../access.js';
import type { ServiceMetrics } from '../metrics.js';

/** PROMETHEUS_CONTENT_TYPE is the media type of Prometheus' text exposition format 0.0.4. */
const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** metricsRoute serves the service's Prometheus registry at `/metrics`. */
export const metricsRoute: FastifyPluginAsyncZod<{ metrics: ServiceMetrics }> = async (app, { metrics }) => {
  app.get(
    '/metrics',
    {
      config: access('viewer', 'metrics.read', { mutates: false }),
      schema: {
        tags: ['health'],
        operationId: 'metrics',
        summary: 'Prometheus metrics in the text exposition format (docs/observability.md lists them)',
        response: {
          200: {
            description: 'The metrics of this service instance',
            content: { [PROMETHEUS_CONTENT_TYPE]: { schema: z.string() } },
          },
        },
      },
    },
    async (_request, reply) => {
      const text = await metrics.scrape();
      return reply.type(PROMETHEUS_CONTENT_TYPE).send(text);
    },
  );
};
