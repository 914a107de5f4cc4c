import type { Redis } from 'ioredis';
import { type BreakerStatus, circuitBreakerKey, createRedisCircuitBreaker } from './circuit-breaker.ts';
import type { RequestPlan } from './request-plan.ts';
import { createTradeStore, type TradeStreamStatus } from './trade-stream.ts';

/**
 * What the page and GraphQL show of the provider: what its plan buys and whether it answers. The workers
 * make the plan and keep the breaker; an API process may run elsewhere, so both are read from Redis.
 */
export interface ProviderStatus {
  name: string;
  /** The plan's one line, and how often each ticker gets a price; none without a request budget. */
  plan: string | undefined;
  priceEveryMs: number | undefined;
  breaker: BreakerStatus;
  /** The trade stream's state; undefined when prices do not come from one. */
  stream: TradeStreamStatus | undefined;
}

const planKey = (prefix: string) => `${prefix}:provider-plan`;

/** The workers record the plan they run, so an API process can show it. */
export async function recordPlan(redis: Redis, prefix: string, plan: RequestPlan | undefined): Promise<void> {
  if (plan)
    await redis.set(
      planKey(prefix),
      JSON.stringify({ summary: plan.summary, priceEveryMs: plan.priceEveryMs }),
    );
  else await redis.del(planKey(prefix));
}

export function createProviderStatusReader(
  redis: Redis,
  prefix: string,
  provider: string,
  streaming: boolean,
): () => Promise<ProviderStatus> {
  const breaker = createRedisCircuitBreaker(redis, circuitBreakerKey(prefix, provider));
  const trades = streaming ? createTradeStore(redis, prefix) : undefined;
  return async () => {
    const [planText, breakerStatus, stream] = await Promise.all([
      redis.get(planKey(prefix)),
      breaker.status(),
      trades?.status(),
    ]);
    const plan = planText ? (JSON.parse(planText) as { summary: string; priceEveryMs: number }) : undefined;
    return {
      name: provider,
      plan: plan?.summary,
      priceEveryMs: plan?.priceEveryMs,
      breaker: breakerStatus,
      stream,
    };
  };
}
