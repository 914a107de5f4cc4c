import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { readSse } from '../helpers/sse.ts';

type Answer<T> = { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };

describe('price alerts through the pipeline: GraphQL rules, the alert queue, the `alerts` subscription, the log', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app?.stop());

  async function graphql<T>(query: string, variables?: object, headers: object = {}): Promise<Answer<T>> {
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as Answer<T>;
  }
  const CREATE = /* GraphQL */ `
    mutation ($input: AlertRuleInput!) {
      createAlertRule(input: $input) { id ticker kind threshold windowMinutes cooldownSeconds paused armed }
    }`;
  type Created = { createAlertRule: { id: string; ticker: string; kind: string; threshold: number | null } };
  /** The price stored for a ticker at the clock's current second (the app's first, scheduled job used real time). */
  const storedPrice = async (ticker: string) => {
    const result = await app.deps.database.pool.query(
      'select price from stock_prices where stock_name = $1 and time = $2',
      [ticker, app.clock.now()],
    );
    return Number(result.rows[0].price);
  };

  it('refuses bad rules with an error that names the field and says what is wanted', async () => {
    const cases: [object, string][] = [
      [{ ticker: 'aapl!', kind: 'ABOVE', threshold: 1 }, 'ticker:'],
      [{ ticker: 'AAPL', kind: 'ABOVE' }, 'threshold: wanted a price in dollars above 0'],
      [{ ticker: 'AAPL', kind: 'BELOW', threshold: -3 }, 'threshold: wanted a price'],
      [
        { ticker: 'AAPL', kind: 'MOVE_PERCENT', threshold: 5 },
        'windowMinutes: wanted whole minutes from 5 to 1440',
      ],
      [
        { ticker: 'AAPL', kind: 'MOVE_PERCENT', threshold: 0, windowMinutes: 5 },
        'threshold: wanted a signed percentage',
      ],
      [{ ticker: 'AAPL', kind: 'HIGH_52_WEEK', threshold: 5 }, 'threshold: a high52 rule takes no threshold'],
      [
        { ticker: 'AAPL', kind: 'STALE', windowMinutes: 2 },
        'windowMinutes: wanted whole minutes from 5 to 1440',
      ],
      [
        { ticker: 'AAPL', kind: 'STALE', threshold: 1, windowMinutes: 10 },
        'threshold: a stale rule takes no threshold',
      ],
      [
        { ticker: 'AAPL', kind: 'ABOVE', threshold: 5, cooldownSeconds: -1 },
        'cooldownSeconds: wanted whole seconds',
      ],
    ];
    for (const [input, message] of cases) {
      const answer = await graphql(CREATE, { input });
      expect(answer.errors?.[0]?.message, JSON.stringify(input)).toContain(message);
      expect(answer.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    const bad = await graphql(`mutation { deleteAlertRule(id: "x1") }`);
    expect(bad.errors?.[0]?.message).toContain('id: wanted the id of an alert rule');
    const rules = await graphql<{ alertRules: unknown[] }>(`{ alertRules { id } }`);
    expect(rules.data?.alertRules).toEqual([]);
  });

  it('needs admin rights to create, list, pause or delete rules', async () => {
    // A request that came through a proxy is never loopback admin (src/server/admission.ts).
    const proxied = { 'x-forwarded-for': '203.0.113.9' };
    const create = await graphql(CREATE, { input: { ticker: 'AAPL', kind: 'ABOVE', threshold: 1 } }, proxied);
    expect(create.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const list = await graphql(`{ alertRules { id } }`, undefined, proxied);
    expect(list.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('a price job’s ticks fire a rule once, pushed to `alerts` subscribers and kept in the log', async () => {
    app.clock.advance(5000);
    await app.runPriceJob();
    // The price job only queued its evaluation: let it run before the rule exists.
    await waitForIdleAlertQueue(app);
    const price = await storedPrice('AAPL');
    // Below twice the price: true from the next tick on, which must fire once, not on every tick.
    const created = await graphql<Created>(CREATE, {
      input: { ticker: 'AAPL', kind: 'BELOW', threshold: Math.round(price * 200) / 100 },
    });
    expect(created.errors).toBeUndefined();
    const ruleId = created.data!.createAlertRule.id;
    const never = await graphql<Created>(CREATE, {
      input: { ticker: 'NVDA', kind: 'ABOVE', threshold: 9999999 },
    });
    expect(never.data?.createAlertRule.kind).toBe('ABOVE');

    const stream = readSse(
      `${app.url}/graphql`,
      'subscription { alerts(tickers: ["AAPL"]) { id ruleId ticker kind price time message } }',
    );
    await stream.ready;
    app.clock.advance(5000);
    await app.runPriceJob();
    const event = (await stream.next()) as {
      data: {
        alerts: {
          ruleId: string;
          ticker: string;
          kind: string;
          price: number;
          time: string;
          message: string;
        }[];
      };
    };
    const fired = await storedPrice('AAPL');
    expect(event.data.alerts).toEqual([
      expect.objectContaining({
        ruleId,
        ticker: 'AAPL',
        kind: 'BELOW',
        price: fired,
        time: app.clock.now().toISOString(),
      }),
    ]);
    expect(event.data.alerts[0]!.message).toContain(`AAPL at $${fired}, at or below $`);

    // Still below on the next ticks: no more firings.
    for (let i = 0; i < 2; i++) {
      app.clock.advance(5000);
      await app.runPriceJob();
    }
    await waitForIdleAlertQueue(app);
    const log = await graphql<{ alertFirings: { ruleId: string; price: number; time: string }[] }>(
      `{ alertFirings(tickers: ["AAPL"]) { ruleId price time } }`,
    );
    expect(log.data?.alertFirings).toEqual([{ ruleId, price: fired, time: event.data.alerts[0]!.time }]);
    stream.close();

    const rules = await graphql<{ alertRules: { id: string; armed: boolean; lastFiredAt: string | null }[] }>(
      `{ alertRules { id armed lastFiredAt } }`,
    );
    expect(rules.data?.alertRules).toEqual([
      { id: ruleId, armed: false, lastFiredAt: event.data.alerts[0]!.time },
      expect.objectContaining({ armed: true, lastFiredAt: null }),
    ]);
  });

  it('pauses, resumes and deletes a rule; the log outlives it', async () => {
    const rules = await graphql<{ alertRules: { id: string }[] }>(`{ alertRules { id } }`);
    const id = rules.data!.alertRules[0]!.id;
    const paused = await graphql<{ setAlertRulePaused: { paused: boolean } }>(
      `mutation ($id: ID!) { setAlertRulePaused(id: $id, paused: true) { paused } }`,
      { id },
    );
    expect(paused.data?.setAlertRulePaused.paused).toBe(true);
    const missing = await graphql(`mutation { setAlertRulePaused(id: "999999", paused: true) { id } }`);
    expect(missing.errors?.[0]?.message).toBe('id: no alert rule has id 999999');
    const deleted = await graphql<{ deleteAlertRule: boolean }>(
      `mutation ($id: ID!) { deleteAlertRule(id: $id) }`,
      {
        id,
      },
    );
    expect(deleted.data?.deleteAlertRule).toBe(true);
    const left = await graphql<{ alertRules: { id: string }[] }>(`{ alertRules { id } }`);
    expect(left.data?.alertRules.map((r) => r.id)).not.toContain(id);
    const log = await graphql<{ alertFirings: { ruleId: string }[] }>(`{ alertFirings { ruleId } }`);
    expect(log.data?.alertFirings).toEqual([{ ruleId: id }]);
  });
});

/** Waits until the alert queue has nothing waiting or running (the price job only queued the evaluation). */
async function waitForIdleAlertQueue(app: TestApp) {
  for (let i = 0; i < 400; i++) {
    const counts = await app.workers!.alertQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    if (Object.values(counts).every((n) => n === 0)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the alert queue did not drain');
}
