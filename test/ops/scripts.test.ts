import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { renderBootstrapScript, shellQuote } from '../../ops/cdk/bootstrap-script.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const scratch = mkdtempSync(path.join(tmpdir(), 'stockstreamer-ops-scripts-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function available(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

function loudSkip(what: string, install: string): void {
  const line = '!'.repeat(100);
  console.warn(`\n${line}\n!! SKIPPED: ${what}\n!! install it with: ${install}\n${line}\n`);
}

const shellScripts = [
  ...readdirSync(path.join(repo, 'ops'))
    .filter((name) => name.endsWith('.sh'))
    .map((name) => `ops/${name}`),
  ...readdirSync(path.join(repo, 'ops/ec2'))
    .filter((name) => name.endsWith('.sh'))
    .map((name) => `ops/ec2/${name}`),
  ...readdirSync(path.join(repo, 'test/ops'))
    .filter((name) => name.endsWith('.sh'))
    .map((name) => `test/ops/${name}`),
];

const hasShellcheck = available('shellcheck', ['--version']);
if (!hasShellcheck)
  loudSkip('shellcheck on the ops scripts (shellcheck is not installed)', 'apt-get install -y shellcheck');

describe('shell scripts', () => {
  it('finds the scripts to check', () => {
    expect(shellScripts).toEqual(
      expect.arrayContaining([
        'ops/install.sh',
        'ops/restore.sh',
        'ops/backup.sh',
        'ops/deploy.sh',
        'ops/ec2/boot-hook.sh',
        'test/ops/install-in-chroot.sh',
      ]),
    );
  });

  it.skipIf(!hasShellcheck).each(shellScripts)('%s is shellcheck clean (every severity)', (script) => {
    const result = spawnSync('shellcheck', ['--severity=style', '--external-sources', script], {
      cwd: repo,
      encoding: 'utf8',
    });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it.skipIf(!hasShellcheck)('the EC2 user-data script is shellcheck clean, with and without SSM', () => {
    for (const installSsmAgent of [true, false]) {
      const file = path.join(scratch, `user-data-${installSsmAgent}.sh`);
      const body = renderBootstrapScript({
        bucket: 'cdk-assets-123456789012-eu-west-1',
        key: 'abc.zip',
        release: 'abc',
        region: 'eu-west-1',
        stackName: 'Stockstreamer',
        logicalId: 'Box1234',
        installArgs: ['--public-ip', '203.0.113.7', '--set', "NOTE=it's fine"],
        installSsmAgent,
        architecture: 'amd64',
      });
      // CDK puts the shebang in front of the commands.
      writeFileSync(file, `#!/bin/bash\n${body}`);
      const result = spawnSync('shellcheck', ['--severity=style', file], { encoding: 'utf8' });
      expect(result.stdout + result.stderr, `installSsmAgent=${installSsmAgent}`).toBe('');
    }
  });

  it('install.sh --help explains itself without touching the machine', () => {
    const result = spawnSync('bash', ['ops/install.sh', '--help'], { cwd: repo, encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--domain NAME');
    expect(result.stdout).toContain('--init MODE');
  });

  it('restore.sh --help explains itself', () => {
    const result = spawnSync('bash', ['ops/restore.sh', '--help'], { cwd: repo, encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--swap');
  });
});

describe('shellQuote', () => {
  it.each([
    ['plain', 'plain'],
    ['SYMBOLS=AAPL,MSFT', 'SYMBOLS=AAPL,MSFT'],
    ['two words', "'two words'"],
    ["it's", `'it'\\''s'`],
    ['$HOME', "'$HOME'"],
    ['', "''"],
  ])('%j -> %s, which bash reads back unchanged', (word, quoted) => {
    expect(shellQuote(word)).toBe(quoted);
    const echoed = spawnSync('bash', ['-c', `printf %s ${quoted}`], { encoding: 'utf8' });
    expect(echoed.stdout).toBe(word);
  });
});

const units = [
  ...readdirSync(path.join(repo, 'ops/systemd')).map((name) => `ops/systemd/${name}`),
  ...readdirSync(path.join(repo, 'ops/ec2')).map((name) => `ops/ec2/${name}`),
].filter((name) => /\.(service|timer|target)$/.test(name));
// verify checks that each ExecStart's program exists. The units start the Node.js that ops/install.sh puts
// at /opt/stockstreamer/node, which this machine lacks: they are verified as copies that start this
// machine's node instead, in a folder of their own (unit files find each other by name).
const INSTALLED_NODE = '/opt/stockstreamer/node/bin/node';
const canVerify = available('systemd-analyze', ['--version']);
if (!canVerify)
  loudSkip('systemd-analyze verify on ops/systemd (no systemd-analyze)', 'apt-get install -y systemd');

describe('systemd units', () => {
  it('ships the API, worker, target, backup service and timer', () => {
    expect(units.sort()).toEqual([
      'ops/ec2/stockstreamer-bootstrap.service',
      'ops/systemd/stockstreamer-api.service',
      'ops/systemd/stockstreamer-api@.service',
      'ops/systemd/stockstreamer-backup.service',
      'ops/systemd/stockstreamer-backup.timer',
      'ops/systemd/stockstreamer-worker.service',
      'ops/systemd/stockstreamer.target',
    ]);
  });

  it('start the Node.js that install.sh installs, running the compiled app', () => {
    for (const role of ['api', 'worker']) {
      const unit = readFileSync(path.join(repo, `ops/systemd/stockstreamer-${role}.service`), 'utf8');
      expect(unit).toContain(
        `\nExecStart=${INSTALLED_NODE} /opt/stockstreamer/current/bin/stockstreamer.js ${role}\n`,
      );
    }
    expect(readFileSync(path.join(repo, 'ops/systemd/stockstreamer-api@.service'), 'utf8')).toContain(
      `\nExecStart=/usr/bin/env PORT=%i METRICS_PORT=1%i ${INSTALLED_NODE} /opt/stockstreamer/current/bin/stockstreamer.js api\n`,
    );
    expect(readFileSync(path.join(repo, 'ops/install.sh'), 'utf8')).toContain(
      'readonly NODE_LINK=$APP_ROOT/node\n',
    );
  });

  it.skipIf(!canVerify)('pass systemd-analyze verify with no warnings', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'units-'));
    try {
      for (const unit of units) {
        const text = readFileSync(path.join(repo, unit), 'utf8').replaceAll(INSTALLED_NODE, process.execPath);
        writeFileSync(path.join(dir, path.basename(unit)), text);
      }
      // A template is verified as one of its instances (an API on port 4001).
      const names = units.map((unit) => path.basename(unit).replace(/@\.service$/, '@4001.service'));
      const result = spawnSync('systemd-analyze', ['verify', ...names], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(result.stdout + result.stderr).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
