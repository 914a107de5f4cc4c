/**
 * The admin vocabulary every layer shares: the HTTP edge decides it (src/server/admission.ts), the GraphQL
 * resolvers act on it. Plain types, so graphql/ needs nothing from src/server/.
 */

/** What a request may do on the admin surfaces (Bull Board, /metrics, watchlist mutations), and why not. */
export type AdminDecision =
  | { allowed: true; via: 'password' | 'loopback' }
  | { allowed: false; status: 401 | 403; reason: string };

/**
 * How admin access is granted:
 * - `password`: ADMIN_PASSWORD is set; HTTP Basic (any user name) or `Authorization: Bearer <password>`.
 * - `loopback`: no password and HOST is a loopback address; only requests from this machine, to a loopback
 *   host name, that came through no proxy, are admin (what a newcomer running `npm start` expects).
 * - `disabled`: no password and a public HOST; admin actions are refused.
 */
export type AdminMode = 'password' | 'loopback' | 'disabled';

/** One line of the audit trail: who (client address) did what to what, and how it ended. Never a secret. */
export interface AuditEvent {
  action: string;
  target: string;
  outcome: 'ok' | 'refused' | 'failed' | 'blocked';
}

/** Writes an audit line for the request it was made for (the client is already bound). */
export type Audit = (event: AuditEvent) => void;
