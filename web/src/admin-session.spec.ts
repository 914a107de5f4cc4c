import { describe, expect, it } from 'vitest';
import { createAdminSession } from './admin-session.ts';

function memoryStorage() {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  };
}

describe('createAdminSession', () => {
  it('keeps the password for the tab and forgets it on sign-out', () => {
    const storage = memoryStorage();
    const session = createAdminSession(storage);
    expect(session.token()).toBeUndefined();
    session.set('correct-horse-battery');
    expect(session.token()).toBe('correct-horse-battery');
    // a reload of the tab reads it back
    expect(createAdminSession(storage).token()).toBe('correct-horse-battery');
    session.clear();
    expect(session.token()).toBeUndefined();
    expect(storage.items.size).toBe(0);
  });

  it('still works, for the life of the page, where storage is refused', () => {
    const refusing = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('SecurityError');
      },
      removeItem: () => {
        throw new Error('SecurityError');
      },
    };
    const session = createAdminSession(refusing);
    session.set('pw-pw-pw-pw-pw');
    expect(session.token()).toBe('pw-pw-pw-pw-pw');
    session.clear();
    expect(session.token()).toBeUndefined();
  });

  it('works without any storage', () => {
    const session = createAdminSession(null);
    session.set('x');
    expect(session.token()).toBe('x');
  });
});
