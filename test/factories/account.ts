import { randomUUID } from 'node:crypto';
import { createAccountWithKey } from '../../src/auth.ts';

/** A new account with its API key; unique names keep tests independent without resets. */
export async function createAccount(overrides: { name?: string; dailyLimit?: number | null } = {}) {
  const name = overrides.name ?? `test-${randomUUID()}`;
  return createAccountWithKey(name, overrides.dailyLimit ?? null);
}
