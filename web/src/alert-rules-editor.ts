/**
 * Alert rules from the page, for whoever the server lets edit (the same right as the watchlist editor's:
 * `permissions.canEditWatchlist`). A form creates a rule; each rule is listed with Pause/Resume and Delete.
 * The server checks everything and its messages (naming the field) are shown as they come.
 */
import { GraphQLRequestError, type GraphqlApi } from './graphql-api.ts';
import type { AlertRule, AlertRuleInput } from './types.ts';

export interface AlertRulesEditor {
  /** Shows the editor and loads the rules when `canEdit`, hides it otherwise. */
  setAllowed(canEdit: boolean): Promise<void>;
  /** Reads the rules again (one fired), when shown. */
  refresh(): Promise<void>;
}

const KIND_LABELS: Record<AlertRule['kind'], string> = {
  ABOVE: 'at or above',
  BELOW: 'at or below',
  MOVE_PERCENT: 'moves by',
  HIGH_52_WEEK: 'new 52-week high',
  LOW_52_WEEK: 'new 52-week low',
  STALE: 'no new price for',
};

function describeRule(rule: AlertRule): string {
  const level =
    rule.kind === 'ABOVE' || rule.kind === 'BELOW'
      ? ` $${rule.threshold}`
      : rule.kind === 'MOVE_PERCENT'
        ? ` ${rule.threshold} % in ${rule.windowMinutes} min`
        : rule.kind === 'STALE'
          ? ` ${rule.windowMinutes} min`
          : '';
  const cooldown = rule.cooldownSeconds > 0 ? `, quiet ${rule.cooldownSeconds} s after firing` : '';
  const state = rule.paused ? ' (paused)' : rule.armed ? '' : ' (fired; re-arms when false again)';
  return `${rule.ticker} ${KIND_LABELS[rule.kind]}${level}${cooldown}${state}`;
}

export function createAlertRulesEditor(root: HTMLElement, api: GraphqlApi): AlertRulesEditor {
  const q = <T extends HTMLElement>(testid: string) => root.querySelector<T>(`[data-testid="${testid}"]`)!;
  const form = q<HTMLFormElement>('alert-rule-form');
  const list = q<HTMLUListElement>('alert-rules');
  const error = q<HTMLElement>('alert-rule-error');
  const kind = q<HTMLSelectElement>('alert-rule-kind');
  const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;

  const showError = (cause: unknown) => {
    error.textContent = cause instanceof GraphQLRequestError ? cause.detail : String(cause);
    error.hidden = false;
  };
  const number = (name: string) => (field(name).value.trim() === '' ? undefined : Number(field(name).value));

  async function reload(): Promise<void> {
    try {
      render(await api.alertRules());
    } catch (cause) {
      showError(cause);
    }
  }

  function render(rules: readonly AlertRule[]): void {
    list.replaceChildren(
      ...rules.map((rule) => {
        const item = document.createElement('li');
        item.dataset.testid = 'alert-rule';
        item.dataset.paused = String(rule.paused);
        const text = document.createElement('span');
        text.textContent = describeRule(rule);
        const pause = document.createElement('button');
        pause.type = 'button';
        pause.className = 'button quiet';
        pause.dataset.testid = 'pause-alert-rule';
        pause.textContent = rule.paused ? 'Resume' : 'Pause';
        pause.addEventListener('click', () => act(() => api.setAlertRulePaused(rule.id, !rule.paused)));
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.className = 'button quiet';
        remove.dataset.testid = 'delete-alert-rule';
        remove.textContent = 'Delete';
        remove.addEventListener('click', () => act(() => api.deleteAlertRule(rule.id)));
        item.append(text, ' ', pause, ' ', remove);
        return item;
      }),
    );
  }

  async function act(change: () => Promise<unknown>): Promise<void> {
    error.hidden = true;
    try {
      await change();
    } catch (cause) {
      showError(cause);
    }
    await reload();
  }

  const syncFields = () => {
    const value = kind.value as AlertRule['kind'];
    field('threshold').disabled = value === 'HIGH_52_WEEK' || value === 'LOW_52_WEEK' || value === 'STALE';
    field('windowMinutes').disabled = value !== 'MOVE_PERCENT' && value !== 'STALE';
  };
  kind.addEventListener('change', syncFields);
  syncFields();

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const input: AlertRuleInput = {
      ticker: field('ticker').value.trim(),
      kind: kind.value as AlertRule['kind'],
    };
    const threshold = field('threshold').disabled ? undefined : number('threshold');
    const windowMinutes = field('windowMinutes').disabled ? undefined : number('windowMinutes');
    const cooldownSeconds = number('cooldownSeconds');
    if (threshold !== undefined) input.threshold = threshold;
    if (windowMinutes !== undefined) input.windowMinutes = windowMinutes;
    if (cooldownSeconds !== undefined) input.cooldownSeconds = cooldownSeconds;
    void act(async () => {
      await api.createAlertRule(input);
      form.reset();
      syncFields();
    });
  });

  return {
    async setAllowed(canEdit) {
      root.hidden = !canEdit;
      if (canEdit) await reload();
    },
    async refresh() {
      if (!root.hidden) await reload();
    },
  };
}
