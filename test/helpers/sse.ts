import assert from 'node:assert/strict';
import { type ClientRequest, get, type IncomingMessage } from 'node:http';

/** SseMessage is one Server-Sent Events message: its `event:`, `id:` and `data:` fields. */
export interface SseMessage {
  event: string;
  id: string | null;
  data: string;
}

/**
 * EventStreamReader reads a Server-Sent Events response and parses it (the subset jobyard
 * writes: `event`, `id`, `data` and comment lines). It keeps every message and comment, and
 * tells when the stream ended. It uses node:http on a connection of its own rather than
 * fetch, whose connection pool may open a spare socket that a server's graceful close then
 * waits for.
 */
export class EventStreamReader {
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  /** Resolves when the stream ended (the server closed it, or close() was called). */
  readonly ended: Promise<void>;
  private waiters: (() => void)[] = [];
  private done = false;
  private closing = false;

  private constructor(
    readonly response: IncomingMessage,
    private readonly request: ClientRequest,
  ) {
    this.ended = this.read();
  }

  /** open requests `url` (with `headers`, e.g. credentials) and resolves once the answer's headers came; fails unless it is a 200 event stream. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<EventStreamReader> {
    const { request, response } = await new Promise<{ request: ClientRequest; response: IncomingMessage }>((resolve, reject) => {
      const request = get(url, { agent: false, headers: { accept: 'text/event-stream', ...headers } }, (response) =>
        resolve({ request, response }),
      );
      request.once('error', reject);
    });
    if (response.statusCode !== 200) {
      let body = '';
      for await (const chunk of response) body += chunk;
      assert.fail(`expected a 200 event stream, got ${response.statusCode}: ${body}`);
    }
    assert.match(String(response.headers['content-type']), /^text\/event-stream/);
    return new EventStreamReader(response, request);
  }

  /** close disconnects, as a browser tab that goes away would. */
  async close(): Promise<void> {
    this.closing = true;
    this.request.destroy();
    await this.ended;
  }

  /** next resolves with the first message (kept or coming) that matches; fails after `timeoutMs` or when the stream ends. */
  async next(matches: (message: SseMessage) => boolean, description: string, timeoutMs = 10_000): Promise<SseMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(matches);
      if (found) return found;
      if (this.done) assert.fail(`the stream ended before ${description}; got ${JSON.stringify(this.messages)}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) assert.fail(`no ${description} within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** records are the data of the messages of job and schedule records, parsed. */
  records(): any[] {
    return this.messages.filter((message) => message.event !== 'dropped').map((message) => JSON.parse(message.data));
  }

  private async read(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of this.response as AsyncIterable<Buffer>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          this.parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
        }
        this.wake();
      }
    } catch (error) {
      if (!this.closing) throw error;
    } finally {
      this.done = true;
      this.wake();
    }
  }

  private parse(block: string): void {
    const message: SseMessage = { event: 'message', id: null, data: '' };
    let hasData = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') message.event = value;
      else if (field === 'id') message.id = value;
      else if (field === 'data') {
        message.data = hasData ? `${message.data}\n${value}` : value;
        hasData = true;
      }
    }
    if (hasData) this.messages.push(message);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
