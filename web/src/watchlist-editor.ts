/**
 * Adding and removing tickers from the page, through the `addToWatchlist` / `removeFromWatchlist`
 * mutations, for whoever the server says may (`permissions.canEditWatchlist`).
 *
 * How a viewer gets that right depends on the server's `adminMode`:
 * - LOOPBACK (no ADMIN_PASSWORD, loopback HOST): a page opened on the server's own machine already may;
 *   the editor is just there.
 * - PASSWORD: the page offers "Sign in to edit" and sends the password the viewer types as
 *   `Authorization: Bearer …`, keeping it in this tab's sessionStorage only. It has to ask: signing in to
 *   Bull Board does not help, because Chromium keeps HTTP Basic credentials for the directory that asked
 *   for them (/admin/) and never sends them to /graphql (checked in test/e2e/watchlist.test.ts).
 * - DISABLED, or LOOPBACK seen from elsewhere: nothing to offer, so nothing is shown.
 *
 * The server's messages are shown as they come (e.g. `ticker: "12" is not a ticker: …`): they name the
 * field and say what is wanted, which is better than anything the page could guess.
 */

import type { AdminSession } from './admin-session.ts';
import { GraphQLRequestError, type GraphqlApi } from './graphql-api.ts';
import type { Permissions } from './types.ts';

export interface WatchlistEditorOptions {
  api: GraphqlApi;
  session: AdminSession;
  /** The watchlist changed on the server: reload it (and the new ticker's history). */
  onChanged(): Promise<void>;
  /** Editing started or stopped (the cards show their remove buttons meanwhile). */
  onEditingChange(editing: boolean): void;
  /** A card's remove button is busy. */
  onBusy(ticker: string, busy: boolean): void;
}

export interface WatchlistEditor {
  /** Asks the server what this page may do and shows the matching controls. */
  refreshPermissions(): Promise<void>;
  /** Removes a ticker (from a card's button). */
  remove(ticker: string): Promise<void>;
  permissions(): Permissions | null;
}

function messageOf(error: unknown): string {
  if (error instanceof GraphQLRequestError) return error.detail;
  return error instanceof Error ? error.message : String(error);
}

export function createWatchlistEditor(root: HTMLElement, options: WatchlistEditorOptions): WatchlistEditor {
  const { api, session } = options;
  const q = <T extends HTMLElement>(testid: string): T => {
    const el = root.querySelector<T>(`[data-testid="${testid}"]`);
    if (!el) throw new Error(`watchlist editor: missing [data-testid="${testid}"]`);
    return el;
  };
  const editButton = q<HTMLButtonElement>('edit-watchlist');
  const signInButton = q<HTMLButtonElement>('sign-in');
  const addForm = q<HTMLFormElement>('add-ticker-form');
  const addInput = q<HTMLInputElement>('add-ticker-input');
  const addSubmit = q<HTMLButtonElement>('add-ticker-submit');
  const signInForm = q<HTMLFormElement>('sign-in-form');
  const passwordInput = q<HTMLInputElement>('admin-password');
  const signOutButton = q<HTMLButtonElement>('sign-out');
  const errorEl = q<HTMLElement>('watchlist-error');
  const statusEl = q<HTMLElement>('watchlist-status');

  let current: Permissions | null = null;
  let editing = false;
  let undo: (() => void) | undefined;

  function showError(text: string): void {
    errorEl.textContent = text;
    errorEl.hidden = text === '';
  }

  function showStatus(text: string, undoAction?: () => void): void {
    statusEl.replaceChildren(text);
    undo = undoAction;
    if (undoAction) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'link-button';
      button.textContent = 'Undo';
      button.dataset.testid = 'undo-remove';
      button.addEventListener('click', () => {
        const action = undo;
        undo = undefined;
        action?.();
      });
      statusEl.append(' ', button);
    }
  }

  function setEditing(next: boolean): void {
    editing = next && current?.canEditWatchlist === true;
    addForm.hidden = !editing;
    editButton.setAttribute('aria-expanded', String(editing));
    editButton.textContent = editing ? 'Done' : 'Edit watchlist';
    signOutButton.hidden = !(editing && session.token());
    options.onEditingChange(editing);
    if (editing) addInput.focus();
    else {
      showError('');
      addInput.removeAttribute('aria-invalid');
    }
  }

  function render(): void {
    const canEdit = current?.canEditWatchlist === true;
    editButton.hidden = !canEdit;
    const offerSignIn = !canEdit && current?.adminMode === 'PASSWORD';
    signInButton.hidden = !offerSignIn;
    if (!offerSignIn) signInForm.hidden = true;
    if (!canEdit && editing) setEditing(false);
    root.hidden = !canEdit && !offerSignIn;
  }

  async function refreshPermissions(): Promise<void> {
    try {
      current = await api.permissions();
    } catch (error) {
      console.warn('stockstreamer: reading permissions failed:', error);
      current = null;
    }
    render();
  }

  editButton.addEventListener('click', () => setEditing(!editing));

  signInButton.addEventListener('click', () => {
    signInForm.hidden = !signInForm.hidden;
    signInButton.setAttribute('aria-expanded', String(!signInForm.hidden));
    if (!signInForm.hidden) passwordInput.focus();
  });

  signInForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const password = passwordInput.value;
    if (!password) {
      showError('Type the admin password (the server’s ADMIN_PASSWORD).');
      passwordInput.focus();
      return;
    }
    const submit = signInForm.querySelector('button[type="submit"]') as HTMLButtonElement | null;
    if (submit) submit.disabled = true;
    session.set(password);
    try {
      await refreshPermissions();
      if (current?.canEditWatchlist) {
        passwordInput.value = '';
        signInForm.hidden = true;
        showError('');
        showStatus('Signed in for this tab.');
        setEditing(true);
      } else {
        session.clear();
        showError('That password was not accepted.');
        passwordInput.select();
      }
    } finally {
      if (submit) submit.disabled = false;
    }
  });

  signOutButton.addEventListener('click', async () => {
    session.clear();
    setEditing(false);
    await refreshPermissions();
    showStatus('Signed out.');
    (current?.canEditWatchlist ? editButton : signInButton).focus();
  });

  addForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const ticker = addInput.value.trim();
    if (!ticker) {
      showError('Type a ticker, e.g. MSFT or BRK.B.');
      addInput.setAttribute('aria-invalid', 'true');
      addInput.focus();
      return;
    }
    addSubmit.disabled = true;
    showError('');
    try {
      const stock = await api.addToWatchlist(ticker);
      addInput.value = '';
      addInput.removeAttribute('aria-invalid');
      showStatus(`Added ${stock.ticker}${stock.companyName ? ` (${stock.companyName})` : ''}.`);
      await options.onChanged();
    } catch (error) {
      showError(messageOf(error));
      addInput.setAttribute('aria-invalid', 'true');
      addInput.focus();
      if (error instanceof GraphQLRequestError && error.code === 'FORBIDDEN') await refreshPermissions();
    } finally {
      addSubmit.disabled = false;
    }
  });

  async function remove(ticker: string): Promise<void> {
    options.onBusy(ticker, true);
    showError('');
    try {
      await api.removeFromWatchlist(ticker);
      showStatus(`Removed ${ticker}; its history is kept.`, () => {
        void (async () => {
          try {
            await api.addToWatchlist(ticker);
            showStatus(`Put ${ticker} back.`);
            await options.onChanged();
          } catch (error) {
            showError(messageOf(error));
          }
        })();
      });
      await options.onChanged();
      if (editing) addInput.focus();
    } catch (error) {
      showError(messageOf(error));
      if (error instanceof GraphQLRequestError && error.code === 'FORBIDDEN') await refreshPermissions();
    } finally {
      options.onBusy(ticker, false);
    }
  }

  render();
  return { refreshPermissions, remove, permissions: () => current };
}
