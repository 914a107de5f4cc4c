/**
 * How a promise ended within a deadline: 'resolved', 'rejected', or 'timeout' if it had not settled by
 * then. Never rejects, and clears its timer, so callers can race shutdown steps and probes freely.
 */
export async function outcomeWithin(
  promise: Promise<unknown>,
  ms: number,
): Promise<'resolved' | 'rejected' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => 'resolved' as const,
        () => 'rejected' as const,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
