// The only way out of the network namespace that `npm run test:ops` runs the install in.
//
//   proxy  SOCKET HOST...      on the host: an HTTP proxy on a Unix socket that forwards plain HTTP
//                              requests (apt) and CONNECT tunnels (npm over HTTPS) to the listed hosts only
//   bridge PORT SOCKET         inside the namespace: 127.0.0.1:PORT piped to that socket, so apt and npm
//                              inside the chroot can use http_proxy=http://127.0.0.1:PORT
//
// A Unix socket crosses network namespaces (it lives in the file system), which keeps the namespace's
// loopback private: PostgreSQL, Redis and the app there cannot collide with the ones on this machine.
import { appendFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

function hostAllowed(allowed: ReadonlySet<string>, host: string): boolean {
  return allowed.has(host.toLowerCase());
}

function record(logFile: string | undefined, line: string): void {
  if (logFile) appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
}

function runProxy(socketPath: string, hosts: string[], logFile: string | undefined): void {
  const allowed = new Set(hosts.map((host) => host.toLowerCase()));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

  const server = http.createServer((req, res) => {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute URL expected\n');
      return;
    }
    if (target.protocol !== 'http:' || !hostAllowed(allowed, target.hostname)) {
      record(logFile, `DENY ${target.host}`);
      res.writeHead(403).end(`${target.hostname} is not reachable from the ops test\n`);
      return;
    }
    record(logFile, `HTTP ${target.hostname}`);
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    const upstream = http.request(
      {
        agent,
        host: target.hostname,
        port: target.port || 80,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers,
      },
      (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      record(logFile, `FAIL ${target.hostname} ${error.message}`);
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });

  server.on('connect', (req, client, head) => {
    const [host = '', portText = '443'] = (req.url ?? '').split(':');
    const port = Number(portText);
    if (!hostAllowed(allowed, host) || port !== 443) {
      record(logFile, `DENY CONNECT ${req.url}`);
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    record(logFile, `CONNECT ${host}`);
    const upstream = net.connect(port, host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });

  server.listen(socketPath, () =>
    process.stdout.write(`egress proxy on ${socketPath} for ${hosts.join(', ')}\n`),
  );
}

function runBridge(port: number, socketPath: string): void {
  const server = net.createServer((client) => {
    const upstream = net.connect(socketPath);
    client.pipe(upstream);
    upstream.pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  // Loopback of the test's own network namespace only.
  server.listen(port, '127.0.0.1', () => process.stdout.write(`bridge 127.0.0.1:${port} -> ${socketPath}\n`));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'proxy' && args.length >= 2) {
  runProxy(args[0]!, args.slice(1), process.env.EGRESS_LOG);
} else if (mode === 'bridge' && args.length === 2) {
  runBridge(Number(args[0]), args[1]!);
} else {
  process.stderr.write('usage: egress-proxy.ts proxy SOCKET HOST... | bridge PORT SOCKET\n');
  process.exit(2);
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
