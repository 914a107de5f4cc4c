import { once } from 'node:events';
import net from 'node:net';

/**
 * A loopback port that was free a moment ago: for a private server a test starts (and keeps for every
 * restart), or, left unused, for an address where nothing answers.
 */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen({ host: '127.0.0.1', port: 0, exclusive: true });
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
