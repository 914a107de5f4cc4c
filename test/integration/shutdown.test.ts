import { afterAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';

describe('stopping the API', () => {
  let app: TestApp | undefined;
  afterAll(() => app?.stop());

  it('ends open subscription streams with `complete` instead of cutting them', async () => {
    app = await startTestApp({ role: 'api' });
    const url = `${app.url}/graphql`;
    // Three viewers, two of them of the same subscription (one cohort) and one of another.
    const queries = [
      'subscription { ticks { ticker price } }',
      'subscription { ticks { ticker price } }',
      'subscription { ticks(tickers: ["AAPL"]) { ticker } }',
    ];
    const streams = queries.map((query) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query }),
      }).then(
        async (response) => ({ status: response.status, body: await response.text() }),
        (error: unknown) => ({ status: 0, body: String(error) }),
      ),
    );
    // Let the streams open; each response body reads until the server ends it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await app.close();
    for (const stream of await Promise.all(streams)) {
      expect(stream.status).toBe(200);
      expect(stream.body).toMatch(/event: complete\n/);
    }
  });
});
