/**
 * A minimal GraphQL-over-SSE reader ("distinct connections" mode, as graphql-sse and Yoga speak it): POSTs the
 * subscription with Accept: text/event-stream and hands out each `next` event's data as it arrives.
 */
export function readSse(url: string, query: string, variables?: object) {
  const controller = new AbortController();
  const queue: unknown[] = [];
  const waiters: ((value: unknown) => void)[] = [];
  let failed: unknown;
  let resolveReady!: () => void;
  let rejectReady!: (error: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });

  (async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query, variables }),
      signal: controller.signal,
    });
    if (!response.ok || !response.body) throw new Error(`subscription answered HTTP ${response.status}`);
    // Yoga subscribes to Redis when the stream starts; a short pause lets that SUBSCRIBE land first.
    setTimeout(resolveReady, 150);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const lines = block.split('\n');
        const event = lines
          .find((l) => l.startsWith('event:'))
          ?.slice(6)
          .trim();
        const data = lines
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trim())
          .join('\n');
        if (data && (event === undefined || event === 'next')) {
          const parsed = JSON.parse(data);
          const waiter = waiters.shift();
          if (waiter) waiter(parsed);
          else queue.push(parsed);
        }
        end = buffer.indexOf('\n\n');
      }
    }
  })().catch((error: unknown) => {
    failed = error;
    rejectReady(error);
  });

  return {
    ready,
    next(timeoutMs = 10_000): Promise<unknown> {
      if (failed && !(failed instanceof Error && failed.name === 'AbortError')) return Promise.reject(failed);
      const queued = queue.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no SSE event within ${timeoutMs} ms`)), timeoutMs);
        waiters.push((value) => {
          clearTimeout(timer);
          resolve(value);
        });
      });
    },
    close() {
      controller.abort();
    },
  };
}
