import type { OutgoingHttpHeader, ServerResponse } from 'node:http';
import type { Jobyard } from '../core/index.js';
import type { EventRecord, EventType } from '../types/index.js';
import { EVENT_STREAM_CONTENT_TYPE } from './schemas/event.js';

/** EventFilter picks the records a stream sends; a null field lets every value through. */
export interface EventFilter {
  queues: ReadonlySet<string> | null;
  jobIds: ReadonlySet<string> | null;
  types: ReadonlySet<EventType> | null;
}

/**
 * Heartbeats a stream may stay blocked through (its client reads nothing) before it is
 * closed: a stream never holds more than one socket buffer, but a dead reader would hold it forever.
 */
const MAX_BLOCKED_HEARTBEATS = 2;

/**
 * EventStreams serves the Server-Sent Events streams of one service: it watches the
 * client's events (Jobyard.watchEvents) while at least one stream is open, sends each
 * record to the streams whose filter it passes, and writes a heartbeat comment to each
 * stream every `heartbeatMs`. A stream whose client reads too slowly loses records (a
 * `dropped` message says how many) rather than growing memory; see docs/api.md.
 */
export class EventStreams {
  private readonly streams = new Set<EventStream>();
  private watching: Promise<() => void> | null = null;
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    private readonly client: Jobyard,
    private readonly heartbeatMs: number,
  ) {}

  /** size is the number of open streams. */
  get size(): number {
    return this.streams.size;
  }

  /**
   * open starts a stream on `response` once the watch is active (so no record published
   * after the stream's first bytes is missed), with the filter and the extra `headers`
   * (those hooks set on the reply). Rejects without writing anything when the client
   * cannot watch (it is closed); a caller then answers with a problem.
   */
  async open(
    response: ServerResponse,
    filter: EventFilter,
    headers: Record<string, OutgoingHttpHeader | undefined>,
  ): Promise<void> {
    const stream = new EventStream(response, filter, () => this.remove(stream));
    this.add(stream);
    try {
      await this.watching;
    } catch (error) {
      this.remove(stream);
      throw error;
    }
    // The client may have gone, or the server started closing, while the watch started.
    if (response.destroyed || !this.streams.has(stream)) {
      this.remove(stream);
      response.destroy();
      return;
    }
    stream.start(headers);
  }

  /** closeAll ends every stream (the server is closing). */
  closeAll(): void {
    for (const stream of [...this.streams]) stream.end();
  }

  private add(stream: EventStream): void {
    this.streams.add(stream);
    this.watching ??= this.client.watchEvents((record) => {
      for (const open of this.streams) open.deliver(record);
    });
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => {
        for (const open of this.streams) open.beat();
      }, this.heartbeatMs);
      this.heartbeat.unref();
    }
  }

  private remove(stream: EventStream): void {
    if (!this.streams.delete(stream) || this.streams.size > 0) return;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    const watching = this.watching;
    this.watching = null;
    watching?.then(
      (stop) => stop(),
      () => {},
    );
  }
}

/** EventStream is one client's stream: its filter, its message numbering and its flow control. */
class EventStream {
  private started = false;
  private lastId = 0;
  /** The socket's buffer is full: records are counted, not written, until it drains. */
  private blocked = false;
  private blockedHeartbeats = 0;
  private dropped = 0;

  constructor(
    private readonly response: ServerResponse,
    private readonly filter: EventFilter,
    private readonly onClose: () => void,
  ) {
    response.once('close', () => {
      // A client that went away may leave its socket half open: release it now.
      if (!response.writableEnded) response.destroy();
      onClose();
    });
  }

  start(headers: Record<string, OutgoingHttpHeader | undefined>): void {
    this.started = true;
    this.response.writeHead(200, {
      ...headers,
      'content-type': `${EVENT_STREAM_CONTENT_TYPE}; charset=utf-8`,
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Proxies such as nginx would otherwise hold messages back in their buffer.
      'x-accel-buffering': 'no',
    });
    this.write(': stream open\n\n');
  }

  deliver(record: EventRecord): void {
    if (!this.started || !this.passes(record)) return;
    if (this.blocked) this.dropped += 1;
    else this.send(record.type, JSON.stringify(record));
  }

  /** beat writes a heartbeat comment, or closes the stream when it stayed blocked too long. */
  beat(): void {
    if (!this.started) return;
    if (!this.blocked) {
      this.write(': heartbeat\n\n');
      return;
    }
    this.blockedHeartbeats += 1;
    if (this.blockedHeartbeats >= MAX_BLOCKED_HEARTBEATS) this.response.destroy();
  }

  end(): void {
    if (this.started) this.response.end();
    else {
      // Not yet started: the open() under way sees the stream gone and drops the connection.
      this.onClose();
    }
  }

  private passes(record: EventRecord): boolean {
    const { queues, jobIds, types } = this.filter;
    return (
      (types === null || types.has(record.type)) &&
      (queues === null || (record.queue !== undefined && queues.has(record.queue))) &&
      (jobIds === null || (record.jobId !== undefined && jobIds.has(record.jobId)))
    );
  }

  private send(event: string, data: string): void {
    this.lastId += 1;
    this.write(`event: ${event}\nid: ${this.lastId}\ndata: ${data}\n\n`);
  }

  private write(text: string): void {
    if (this.response.destroyed || this.response.writableEnded) return;
    if (this.response.write(text)) return;
    this.blocked = true;
    this.response.once('drain', () => {
      this.blocked = false;
      this.blockedHeartbeats = 0;
      if (this.dropped === 0) return;
      const count = this.dropped;
      this.dropped = 0;
      this.send('dropped', JSON.stringify({ count }));
    });
  }
}
