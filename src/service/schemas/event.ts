import { z } from 'zod';
import { NAME_PATTERN } from '../../core/validation.js';
import { EVENT_TYPES } from '../../types/index.js';

/** oneOrMany accepts a query parameter given once or repeated. */
function oneOrMany<Item extends z.ZodType>(item: Item) {
  return z.union([item, z.array(item).max(100)]).optional();
}

/** EventTypeSchema names one kind of event record. */
export const EventTypeSchema = z.enum(EVENT_TYPES);

/**
 * EventsQuery holds the filters of `GET /api/events`: a record passes when it matches every
 * parameter given, and a parameter repeated matches any of its values.
 */
export const EventsQuery = z.strictObject({
  queue: oneOrMany(z.string().regex(NAME_PATTERN, 'expected a queue name')).describe(
    'Only records of jobs in this queue (repeat for several); schedule records without a job never match',
  ),
  jobId: oneOrMany(z.guid()).describe('Only records of this job (repeat for several)'),
  type: oneOrMany(EventTypeSchema).describe('Only records of this type (repeat for several)'),
});

/** EventsQueryValues are the parsed filters. */
export type EventsQueryValues = z.infer<typeof EventsQuery>;

/** EVENT_STREAM_CONTENT_TYPE is the media type of the stream. */
export const EVENT_STREAM_CONTENT_TYPE = 'text/event-stream' as const;

/** EventStreamResponse documents the 200 answer of `GET /api/events` in OpenAPI. */
export const EventStreamResponse = {
  description:
    'A Server-Sent Events stream that stays open. Each message has `event:` (the record type, or `dropped`), ' +
    '`id:` (numbered from 1 per stream) and `data:` (the record as JSON). A comment line (`: heartbeat`) comes ' +
    'every 15 s. Best effort, at most once, no replay: `Last-Event-ID` is ignored. See docs/api.md.',
  content: {
    [EVENT_STREAM_CONTENT_TYPE]: {
      schema: z.string().describe('text/event-stream messages; data is an event record (docs/api.md)'),
    },
  },
};
