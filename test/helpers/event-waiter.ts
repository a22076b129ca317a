/** Subscribe registers a listener and returns the function that removes it. */
export type Subscribe<Event> = (listener: (event: Event) => void) => () => void;

/**
 * waitForEvent resolves with the first event that `matches`, or rejects after `timeoutMs`.
 * Call it before the action that should emit, then await it. The timeout only bounds the
 * wait for a missing event; tests never assert on how fast an event came.
 */
export function waitForEvent<Event>(
  subscribe: Subscribe<Event>,
  matches: (event: Event) => boolean,
  description: string,
  timeoutMs = 5_000,
): Promise<Event> {
  return new Promise((resolve, reject) => {
    const seen: Event[] = [];
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no ${description} within ${timeoutMs} ms; saw ${JSON.stringify(seen)}`));
    }, timeoutMs);
    const unsubscribe = subscribe((event) => {
      seen.push(event);
      if (!matches(event)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(event);
    });
  });
}

/** recordEvents keeps every event delivered until `stop` is called. */
export function recordEvents<Event>(subscribe: Subscribe<Event>): { events: Event[]; stop: () => void } {
  const events: Event[] = [];
  const stop = subscribe((event) => events.push(event));
  return { events, stop };
}
