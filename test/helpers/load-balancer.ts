import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from './ports.ts';
import { waitFor } from './servers.ts';

export interface LoadBalancer {
  readonly url: string;
  dispose(): Promise<void>;
}

/**
 * Caddy (Debian's package) in front of the API processes, as ops/ runs it: round robin, SSE flushed at
 * once, and passive health only. An upstream that refuses a connection is left out for 10 s and the
 * request is tried on another within 3 s (request bodies are buffered: Go's transport closes a body on a
 * failed attempt, and Caddy 2.6 would then send the retry without one, fail it, and mark the healthy
 * upstream down too); /healthz is not polled, because its 503 while PostgreSQL or Redis
 * is away would take every API out at once, though each one still serves its open streams.
 */
export async function startLoadBalancer(dir: string, upstreams: readonly string[]): Promise<LoadBalancer> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const caddyfile = path.join(dir, 'Caddyfile');
  await writeFile(
    caddyfile,
    `{
\tadmin off
\tauto_https off
}

http://127.0.0.1:${port} {
\treverse_proxy ${upstreams.map((u) => u.replace(/^http:\/\//, '')).join(' ')} {
\t\tlb_policy round_robin
\t\tbuffer_requests
\t\tlb_try_duration 3s
\t\tlb_try_interval 100ms
\t\tfail_duration 10s
\t\tflush_interval -1
\t}
}
`,
  );
  const log = openSync(path.join(dir, 'caddy.log'), 'a');
  const child: ChildProcess = spawn('caddy', ['run', '--config', caddyfile, '--adapter', 'caddyfile'], {
    // Caddy keeps state under $HOME / XDG folders: this test's own.
    env: { PATH: process.env.PATH ?? '', HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    stdio: ['ignore', log, log],
  });
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      `caddy on port ${port}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`caddy exited with ${child.exitCode}; see ${caddyfile}`);
        await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.arrayBuffer());
        return true;
      },
      10_000,
    );
  } catch (error) {
    // Not left running behind a caller that never got its dispose().
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url,
    async dispose() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      // Caddy drains its proxied streams on SIGTERM; with thousands of SSE streams open (the P10 bench)
      // it can take longer than a caller should wait, so it gets 5 s.
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
