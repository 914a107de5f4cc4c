/**
 * The admin password for this tab, once the viewer signs in to edit. The watchlist editor writes it and the
 * page's GraphQL client reads it for every request (graphql-api.ts), so it is neither's: a module of its own.
 */

const TOKEN_KEY = 'stockstreamer.adminToken';

/** The admin password for this tab, if the viewer signed in. */
export interface AdminSession {
  token(): string | undefined;
  set(token: string): void;
  clear(): void;
}

export function createAdminSession(
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null,
): AdminSession {
  let memory: string | undefined;
  const read = () => {
    try {
      return storage?.getItem(TOKEN_KEY) ?? memory;
    } catch {
      return memory; // storage can be off (privacy settings); then the sign-in lasts as long as the page
    }
  };
  return {
    token: () => read() || undefined,
    set(token) {
      memory = token;
      try {
        storage?.setItem(TOKEN_KEY, token);
      } catch {
        // kept in memory only
      }
    },
    clear() {
      memory = undefined;
      try {
        storage?.removeItem(TOKEN_KEY);
      } catch {
        // nothing stored
      }
    },
  };
}
