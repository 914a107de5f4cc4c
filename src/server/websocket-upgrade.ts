import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { describeDisconnect, isClientDisconnect } from '../client-disconnect.ts';
import type { Config } from '../config.ts';
import { type ClientLimits, type Release, tooManySubscriptions } from './client-limits.ts';
import {
  type AdminAuth,
  type AdminDecision,
  clientAddress,
  originAllowed,
  originRefusal,
} from './security.ts';

/** What the upgrade decided about a WebSocket, handed to the protocol that serves it. */
export interface WebSocketSession {
  /** Admin rights, from the upgrade request's headers, exactly as for an HTTP request. */
  admin: AdminDecision;
  /**
   * Admin rights for credentials sent in the protocol's own handshake (an `Authorization` header value),
   * judged as if the upgrade request had carried them.
   */
  adminFor(authorization: string): AdminDecision;
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

/** A WebSocket protocol served at /graphql (graphql/graphql-ws-server.ts): completes the handshake itself. */
export interface WebSocketHandler {
  /** The one subprotocol it speaks; an upgrade that does not offer it is refused. */
  readonly subprotocol: string;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, session: WebSocketSession): void;
}

/**
 * The http server's 'upgrade' listener. An upgrade never passes through Koa, so the checks the HTTP side
 * makes on /graphql are made here, before the handshake is accepted: the path, the Origin (browsers send
 * stored credentials with WebSocket upgrades and CORS does not apply, so without this a page on any site
 * could open an admin socket: cross-site WebSocket hijacking), the subprotocol, the per-client request rate
 * and the per-client socket cap.
 */
export function createUpgradeHandler(options: {
  path: string;
  handler: WebSocketHandler;
  security: Config['security'];
  adminAuth: AdminAuth;
  limits: ClientLimits;
  logger: Logger;
}) {
  const { handler, security, adminAuth, limits, logger } = options;
  let closing = false;

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on('error', (error) =>
      isClientDisconnect(error)
        ? logger.debug(describeDisconnect(error), 'websocket upgrade: client went away')
        : logger.warn({ err: error }, 'websocket upgrade: socket error'),
    );
    const path = (req.url ?? '').split('?')[0];
    if (path !== options.path) return refuse(socket, 404, `no WebSocket endpoint at ${path}`);
    if (closing) return refuse(socket, 503, 'the server is shutting down');
    if (!originAllowed(req, security)) {
      return refuse(socket, 403, originRefusal(req));
    }
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes(handler.subprotocol)) {
      return refuse(socket, 400, `the WebSocket subprotocol must be ${handler.subprotocol}`);
    }
    const client = clientAddress(req, security.trustProxy);
    const request = limits.takeRequest(client);
    if (!request.allowed) {
      return refuse(socket, 429, request.message, { 'Retry-After': request.retryAfter });
    }
    const releaseSocket = limits.reserveSocket(client);
    if (!releaseSocket) {
      return refuse(socket, 429, `too many open WebSockets: at most ${limits.maxStreams} per client`);
    }
    // A handshake that fails from here on (bad Sec-WebSocket-Key, ...) closes the socket; its slot too.
    socket.once('close', releaseSocket);
    handler.handleUpgrade(req, socket, head, {
      admin: adminAuth.decide(req),
      adminFor: (authorization) => adminAuth.decide(req, authorization),
      spendRequest: () => {
        const spent = limits.takeRequest(client);
        return spent.allowed ? undefined : spent.message;
      },
      reserveSubscription: () => limits.reserveStream(client),
      subscriptionLimitMessage: tooManySubscriptions(limits.maxStreams),
      closed: releaseSocket,
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
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** Answers the upgrade with a plain HTTP error, before any handshake, and closes the connection. */
function refuse(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}) {
  const body = `${JSON.stringify({ errors: [{ message }] })}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  if (!socket.writable) return void socket.destroy();
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
}
