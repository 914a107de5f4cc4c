import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { describeDisconnect, isClientDisconnect } from '../client-disconnect.ts';
import type { AdminDecision, Audit } from '../domain/admin.ts';
import type { Admission, Refusal } from './admission.ts';
import { type ClientLimits, type Release, tooManySubscriptions } from './client-limits.ts';

/** What the upgrade decided about a WebSocket, handed to the protocol that serves it. */
export interface WebSocketSession {
  /** Admin rights, from the upgrade request's headers, exactly as for an HTTP request. */
  admin: AdminDecision;
  /**
   * Admin rights for credentials sent in the protocol's own handshake (an `Authorization` header value),
   * judged as if the upgrade request had carried them (failed logins count and are audited the same way);
   * a string is the refusal when the client has failed too often.
   */
  adminFor(authorization: string): Promise<AdminDecision | string>;
  /** The audit trail of this socket's client, for admin actions made over it. */
  audit: Audit;
  /**
   * Spends one of the client's requests for this minute (the HTTP rate limit; each operation on the socket
   * is one request); answers the refusal message when none is left.
   */
  spendRequest(): string | undefined;
  /** Takes one of the client's subscription slots (shared with SSE); undefined when none is left. */
  reserveSubscription(): Release | undefined;
  /** The message to send when reserveSubscription() answered undefined. */
  subscriptionLimitMessage: string;
  /** To be called once when the socket has closed: gives the client's socket slot back. */
  closed(): void;
}

/** A WebSocket protocol served at /graphql (graphql-ws-server.ts): completes the handshake itself. */
export interface WebSocketHandler {
  /** The one subprotocol it speaks; an upgrade that does not offer it is refused. */
  readonly subprotocol: string;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, session: WebSocketSession): void;
}

/**
 * The http server's 'upgrade' listener. An upgrade never passes through Koa; admission.ts decides it as it
 * decides HTTP, before the handshake is accepted: the Host, the Origin (browsers send stored credentials
 * with WebSocket upgrades and CORS does not apply, so without this a page on any site could open an admin
 * socket: cross-site WebSocket hijacking), the per-client request rate, the per-client socket cap and
 * admin. The path and the subprotocol are this listener's own business.
 */
export function createUpgradeHandler(options: {
  path: string;
  handler: WebSocketHandler;
  admission: Admission;
  limits: ClientLimits;
  logger: Logger;
}) {
  const { handler, admission, limits, logger } = options;
  let closing = false;

  async function admit(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const host = admission.hostRefusal(req);
    if (host) return refuse(socket, host);
    const path = (req.url ?? '').split('?')[0];
    if (path !== options.path)
      return refuse(socket, { status: 404, message: `no WebSocket endpoint at ${path}` });
    if (closing) return refuse(socket, { status: 503, message: 'the server is shutting down' });
    const origin = admission.originRefusal(req);
    if (origin) return refuse(socket, origin);
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes(handler.subprotocol)) {
      return refuse(socket, {
        status: 400,
        message: `the WebSocket subprotocol must be ${handler.subprotocol}`,
      });
    }
    const decided = await admission.graphql(req, 'websocket');
    if ('refused' in decided) return refuse(socket, decided.refused);
    const { client, admin, audit, release: releaseSocket = () => {} } = decided.admitted;
    // A handshake that fails from here on (bad Sec-WebSocket-Key, ...) closes the socket; its slot too.
    socket.once('close', releaseSocket);
    if (socket.destroyed) return releaseSocket();
    handler.handleUpgrade(req, socket, head, {
      admin,
      audit,
      adminFor: async (authorization) => {
        const decision = await admission.admin(req, authorization, 'graphql-ws connection_init');
        return 'allowed' in decision ? decision : decision.message;
      },
      spendRequest: () => {
        const spent = limits.takeRequest(client);
        return spent.allowed ? undefined : spent.message;
      },
      reserveSubscription: () => limits.reserveStream(client),
      subscriptionLimitMessage: tooManySubscriptions(limits.maxStreams),
      closed: releaseSocket,
    });
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on('error', (error) =>
      isClientDisconnect(error)
        ? logger.debug(describeDisconnect(error), 'websocket upgrade: client went away')
        : logger.warn({ err: error }, 'websocket upgrade: socket error'),
    );
    admit(req, socket, head).catch((error: unknown) => {
      logger.error({ err: error }, 'websocket upgrade failed');
      refuse(socket, { status: 500, message: 'Unexpected error.' });
    });
  }

  return {
    onUpgrade,
    /** Refuses new upgrades from now on (the open sockets are the protocol's to close). */
    stopAccepting() {
      closing = true;
    },
  };
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  421: 'Misdirected Request',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Answers the upgrade with a plain HTTP error, before any handshake, and closes the connection. */
function refuse(socket: Duplex, { status, message, headers = {} }: Refusal) {
  const body = `${JSON.stringify({ errors: [{ message }] })}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    'Cache-Control: no-store',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers)
      .filter(([name]) => name.toLowerCase() !== 'connection')
      .map(([name, value]) => `${name}: ${value}`),
  ];
  if (!socket.writable) return void socket.destroy();
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
}
