import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { execute, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { maskResult, prepareOperation } from '../../graphql/operation.ts';
import type { RequestContext } from '../../graphql/resolvers.ts';
import {
  type CohortEvent,
  MAX_BUFFERED_BYTES,
  type SubscriptionCohorts,
  type SubscriptionSink,
} from '../../graphql/subscription-cohorts.ts';
import { describeDisconnect, isClientDisconnect } from '../client-disconnect.ts';
import { outcomeWithin } from '../deadline.ts';
import type { AdminDecision } from '../domain/admin.ts';
import type { WebSocketSession } from './websocket-upgrade.ts';

/** The WebSocket subprotocol of graphql-ws (node_modules/graphql-ws/PROTOCOL.md). */
const GRAPHQL_TRANSPORT_WS = 'graphql-transport-ws';

/** Close codes: RFC 6455's and the ones PROTOCOL.md names. */
const CloseCode = Object.freeze({
  GoingAway: 1001,
  InternalServerError: 4500,
  BadRequest: 4400,
  Unauthorized: 4401,
  Forbidden: 4403,
  ConnectionInitialisationTimeout: 4408,
  SubscriberAlreadyExists: 4409,
  TooManyInitialisationRequests: 4429,
});

/** A WebSocket close reason is at most 123 bytes (RFC 6455, 5.5). */
const MAX_CLOSE_REASON_BYTES = 123;

export interface GraphqlWsOptions {
  schema: GraphQLSchema;
  cohorts: SubscriptionCohorts;
  logger: Logger;
  /** Largest message accepted; a bigger one closes the socket with 1009 (ws does this). */
  maxPayloadBytes: number;
  /** How long a socket may stay without `connection_init` before it is closed with 4408. */
  connectionInitTimeoutMs?: number;
  /** How often every socket is pinged; one that has not answered the previous ping is terminated. */
  heartbeatMs?: number;
}

/** One subscribe id's work: stopping it is idempotent. */
interface Operation {
  stop(): void;
}

interface Connection {
  socket: WebSocket;
  session: WebSocketSession;
  /** Admin rights for this socket: the upgrade's, or those of credentials sent in `connection_init`. */
  admin: AdminDecision;
  /** Sent `connection_init` and was answered `connection_ack`: may subscribe. */
  initialised: boolean;
  /** Sent `connection_init`, whose credentials are still being judged. */
  initialising: boolean;
  /** Answered the last heartbeat ping. */
  alive: boolean;
  initTimer: NodeJS.Timeout | undefined;
  operations: Map<string, Operation>;
}

const CLOSE_BRACE = Buffer.from('}');
/** A cohort event's JSON as bytes, made once per event and shared by every graphql-ws member. */
const utf8 = (json: string) => Buffer.from(json);

/**
 * GraphQL over WebSocket, the graphql-ws protocol (subprotocol `graphql-transport-ws`), on the `ws` package.
 * Subscriptions join the same cohorts as SSE (subscription-cohorts.ts): per event, each member's message
 * is its precomputed `{"id":…,"type":"next","payload":` prefix, the cohort's one serialised result, and `}`.
 * Queries and mutations run once each with the same validation rules and error masking as Yoga, in the
 * context `{ admin }` that the upgrade request's credentials decided.
 */
export function createGraphqlWsServer(options: GraphqlWsOptions) {
  const { schema, cohorts, logger } = options;
  const connectionInitTimeoutMs = options.connectionInitTimeoutMs ?? 3000;
  const heartbeatMs = options.heartbeatMs ?? 12_000;
  const server = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: options.maxPayloadBytes,
    perMessageDeflate: false,
    // The upgrade handler has checked that the client offers it.
    handleProtocols: (protocols) => (protocols.has(GRAPHQL_TRANSPORT_WS) ? GRAPHQL_TRANSPORT_WS : false),
  });
  const connections = new Set<Connection>();
  let heartbeat: NodeJS.Timeout | undefined;

  function send(connection: Connection, data: Buffer | string) {
    const { socket } = connection;
    if (socket.readyState !== WebSocket.OPEN) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      logger.warn('dropping a graphql-ws client that cannot keep up');
      socket.terminate();
      return;
    }
    socket.send(data, { binary: false });
  }

  function sendMessage(connection: Connection, message: object) {
    send(connection, JSON.stringify(message));
  }

  function close(connection: Connection, code: number, reason: string) {
    let text = reason;
    while (Buffer.byteLength(text) > MAX_CLOSE_REASON_BYTES) text = text.slice(0, -1);
    connection.socket.close(code, text);
  }

  function ensureHeartbeat() {
    if (heartbeat || connections.size === 0) return;
    heartbeat = setInterval(() => {
      for (const connection of connections) {
        if (!connection.alive) {
          logger.debug('terminating a graphql-ws socket that did not answer ping');
          connection.socket.terminate();
          continue;
        }
        connection.alive = false;
        connection.socket.ping();
      }
      if (connections.size === 0) {
        clearInterval(heartbeat);
        heartbeat = undefined;
      }
    }, heartbeatMs);
    heartbeat.unref();
  }

  function accept(socket: WebSocket, session: WebSocketSession) {
    const connection: Connection = {
      socket,
      session,
      admin: session.admin,
      initialised: false,
      initialising: false,
      alive: true,
      initTimer: undefined,
      operations: new Map(),
    };
    connections.add(connection);
    connection.initTimer = setTimeout(() => {
      if (!connection.initialised) {
        close(connection, CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
      }
    }, connectionInitTimeoutMs);
    socket.on('pong', () => {
      connection.alive = true;
    });
    socket.on('message', (data) => onMessage(connection, data));
    // ws reports protocol faults (e.g. a message over maxPayload) here after closing the socket itself.
    socket.on('error', (error) =>
      isClientDisconnect(error)
        ? logger.debug(describeDisconnect(error), 'graphql-ws: client went away')
        : logger.warn({ err: error }, 'graphql-ws socket error'),
    );
    socket.once('close', () => {
      clearTimeout(connection.initTimer);
      connections.delete(connection);
      for (const operation of connection.operations.values()) operation.stop();
      connection.operations.clear();
      session.closed();
    });
    ensureHeartbeat();
  }

  function acknowledge(connection: Connection) {
    if (connection.socket.readyState !== WebSocket.OPEN) return;
    connection.initialised = true;
    clearTimeout(connection.initTimer);
    sendMessage(connection, { type: 'connection_ack' });
  }

  function onMessage(connection: Connection, data: RawData) {
    let message: unknown;
    try {
      const bytes = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data);
      message = JSON.parse(bytes.toString('utf8'));
    } catch {
      return close(connection, CloseCode.BadRequest, 'Invalid message received: not JSON');
    }
    if (!isRecord(message) || typeof message.type !== 'string') {
      return close(connection, CloseCode.BadRequest, 'Invalid message received: no type');
    }
    switch (message.type) {
      case 'connection_init': {
        if (connection.initialised || connection.initialising) {
          return close(
            connection,
            CloseCode.TooManyInitialisationRequests,
            'Too many initialisation requests',
          );
        }
        if (!isOptionalRecord(message.payload)) {
          return close(connection, CloseCode.BadRequest, 'Invalid message received: connection_init payload');
        }
        // Browsers cannot put headers on a WebSocket: credentials may come as { authorization: "Bearer …" }.
        const authorization = (message.payload as Record<string, unknown> | null | undefined)?.authorization;
        if (authorization === undefined) return acknowledge(connection);
        if (typeof authorization !== 'string') {
          return close(connection, CloseCode.BadRequest, 'connection_init: authorization must be a string');
        }
        connection.initialising = true;
        void connection.session.adminFor(authorization).then(
          (admin) => {
            connection.initialising = false;
            if (typeof admin === 'string')
              return close(connection, CloseCode.TooManyInitialisationRequests, admin);
            if (!admin.allowed) return close(connection, CloseCode.Forbidden, `Forbidden: ${admin.reason}`);
            connection.admin = admin;
            acknowledge(connection);
          },
          (error: unknown) => {
            logger.error({ err: error }, 'graphql-ws: could not judge connection_init credentials');
            close(connection, CloseCode.InternalServerError, 'Internal server error');
          },
        );
        return;
      }
      case 'ping':
        if (!isOptionalRecord(message.payload)) {
          return close(connection, CloseCode.BadRequest, 'Invalid message received: ping payload');
        }
        return sendMessage(
          connection,
          message.payload ? { type: 'pong', payload: message.payload } : { type: 'pong' },
        );
      case 'pong':
        if (!isOptionalRecord(message.payload)) {
          return close(connection, CloseCode.BadRequest, 'Invalid message received: pong payload');
        }
        return;
      case 'subscribe': {
        const { id, payload } = message;
        if (!isOperationId(id) || !isSubscribePayload(payload)) {
          return close(connection, CloseCode.BadRequest, 'Invalid message received: subscribe');
        }
        if (!connection.initialised) return close(connection, CloseCode.Unauthorized, 'Unauthorized');
        if (connection.operations.has(id)) {
          return close(connection, CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
        }
        return startOperation(connection, id, payload);
      }
      case 'complete': {
        if (!isOperationId(message.id)) {
          return close(connection, CloseCode.BadRequest, 'Invalid message received: complete');
        }
        // An id that already completed (or never existed) is ignored, as the protocol allows.
        const operation = connection.operations.get(message.id);
        connection.operations.delete(message.id);
        operation?.stop();
        return;
      }
      default:
        return close(connection, CloseCode.BadRequest, `Invalid message received: type ${message.type}`);
    }
  }

  function startOperation(connection: Connection, id: string, payload: SubscribePayload) {
    let stopped = false;
    const cleanups: (() => void)[] = [];
    const operation: Operation = {
      stop() {
        if (stopped) return;
        stopped = true;
        for (const cleanup of cleanups.splice(0)) cleanup();
      },
    };
    const onStop = (cleanup: () => void) => {
      if (stopped) cleanup();
      else cleanups.push(cleanup);
    };
    /** The server ends the operation: it leaves the socket's table so that its id may be reused. */
    const finish = () => {
      if (connection.operations.get(id) === operation) connection.operations.delete(id);
      operation.stop();
    };
    const answer = (message: object) => {
      if (!stopped) sendMessage(connection, message);
    };
    connection.operations.set(id, operation);

    const run = async () => {
      const overLimit = connection.session.spendRequest();
      if (overLimit) {
        answer({ id, type: 'error', payload: [{ message: overLimit }] });
        return finish();
      }
      const prepared = prepareOperation(schema, payload);
      if (!('operation' in prepared)) {
        answer({ id, type: 'error', payload: prepared.errors });
        return finish();
      }
      const { document, operationName, variables, kind } = prepared.operation;
      if (kind !== 'subscription') {
        const contextValue: RequestContext = { admin: connection.admin, audit: connection.session.audit };
        const result = await execute({
          schema,
          document,
          operationName,
          variableValues: variables,
          contextValue,
        });
        // A client that sent `complete` before the result gets nothing more for this id.
        answer({ id, type: 'next', payload: maskResult(result, logger) });
        answer({ id, type: 'complete' });
        return finish();
      }

      const release = connection.session.reserveSubscription();
      if (!release) {
        answer({ id, type: 'error', payload: [{ message: connection.session.subscriptionLimitMessage }] });
        return finish();
      }
      onStop(release);
      const prefix = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
      const sink: SubscriptionSink = {
        transport: 'graphql-ws',
        next: (event: CohortEvent) => {
          if (!stopped) send(connection, Buffer.concat([prefix, event.encoded(utf8), CLOSE_BRACE]));
        },
        complete: () => {
          answer({ id, type: 'complete' });
          finish();
        },
      };
      const joined = await cohorts.join(prepared.operation, sink);
      if ('refused' in joined) {
        // Refused at subscribe time (e.g. a bad ticker): one `next` with the errors, then `complete`.
        answer({ id, type: 'next', payload: joined.refused });
        answer({ id, type: 'complete' });
        return finish();
      }
      onStop(joined.membership.leave);
    };
    run().catch((error: unknown) => {
      logger.error({ err: error }, 'graphql-ws operation failed');
      answer({ id, type: 'error', payload: [{ message: 'Unexpected error.' }] });
      finish();
    });
  }

  return {
    subprotocol: GRAPHQL_TRANSPORT_WS,

    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, session: WebSocketSession): void {
      server.handleUpgrade(req, socket, head, (webSocket) => accept(webSocket, session));
    },

    /** Open sockets, and the operations running on them (subscriptions and queries in flight). */
    stats() {
      let operations = 0;
      for (const connection of connections) operations += connection.operations.size;
      return { sockets: connections.size, operations };
    },

    /**
     * Completes every operation (each subscription gets its `complete`), closes every socket with 1001
     * (going away), and terminates the ones whose close handshake has not finished within `graceMs`.
     */
    async closeAll(graceMs: number): Promise<void> {
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = undefined;
      const closing = [...connections].map((connection) => {
        const closed = new Promise<void>((resolve) => {
          if (connection.socket.readyState === WebSocket.CLOSED) resolve();
          else connection.socket.once('close', () => resolve());
        });
        for (const [id, operation] of connection.operations) {
          sendMessage(connection, { id, type: 'complete' });
          operation.stop();
        }
        connection.operations.clear();
        close(connection, CloseCode.GoingAway, 'server shutting down');
        return closed;
      });
      if ((await outcomeWithin(Promise.all(closing), graceMs)) === 'timeout') {
        for (const connection of connections) connection.socket.terminate();
      }
    },
  };
}

interface SubscribePayload {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
  extensions?: Record<string, unknown> | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isOptionalRecord(value: unknown): boolean {
  return value === undefined || value === null || isRecord(value);
}

function isOperationId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isSubscribePayload(value: unknown): value is SubscribePayload {
  return (
    isRecord(value) &&
    typeof value.query === 'string' &&
    isOptionalRecord(value.variables) &&
    isOptionalRecord(value.extensions) &&
    (value.operationName === undefined ||
      value.operationName === null ||
      typeof value.operationName === 'string')
  );
}
