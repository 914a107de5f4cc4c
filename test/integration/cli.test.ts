import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort as deadPort } from '../helpers/ports.ts';
import { createTestDatabase, uniqueName } from '../helpers/services.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs a command in the checkout with exactly `env` (plus PATH and HOME) and collects what it printed. */
function run(command: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const cli = (args: string[], env?: Record<string, string>) =>
  run(process.execPath, ['bin/stockstreamer.js', ...args], env);

describe('the CLI', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('fails with one line when REDIS_URL does not answer, in the API and in start', async () => {
    const port = await deadPort();
    for (const role of ['api', 'start']) {
      const result = await cli([role], {
        DATABASE_URL: database.url,
        REDIS_URL: `redis://127.0.0.1:${port}`,
        QUEUE_PREFIX: uniqueName('q'),
        PORT: '0',
      });
      expect(result.code, role).not.toBe(0);
      expect(result.stdout, role).toBe('');
      expect(result.stderr.trim().split('\n'), role).toEqual([
        expect.stringMatching(
          new RegExp(`^stockstreamer: REDIS_URL \\(127\\.0\\.0\\.1:${port}\\) did not answer PING`),
        ),
      ]);
    }
  });

  it("lists, in each command's --help, only the variables it reads, with defaults, within 100 columns", async () => {
    const worker = (await cli(['worker', '--help'])).stdout;
    const api = (await cli(['api', '--help'])).stdout;
    const migrate = (await cli(['migrate', '--help'])).stdout;
    expect(worker).toMatch(/^ {2}PROVIDER +market data: [\s\S]*?\(default: simulated\)$/m);
    expect(worker).not.toMatch(/^ {2}HOST /m);
    expect(api).toMatch(/^ {2}HOST +address the HTTP server binds to \(default: 127\.0\.0\.1\)$/m);
    expect(api).not.toMatch(/FINNHUB_API_KEY/);
    expect(migrate).toMatch(/^ {2}DATABASE_URL /m);
    expect(migrate).not.toMatch(/^ {2}(HOST|PROVIDER|REDIS_URL) /m);
    for (const text of [worker, api, migrate]) {
      expect(text.split('\n').filter((line) => line.length > 100)).toEqual([]);
    }
  });

  it('checks the configuration before `npm start` builds the page', async () => {
    const result = await run('npm', ['start'], { PORT: 'not-a-port' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/PORT="not-a-port" is not valid: wanted a whole number from 0 to 65535/);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/vite|building/i);
  });
});
