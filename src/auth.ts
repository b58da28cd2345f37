import { createHash, randomBytes } from 'node:crypto';
import { createGraphQLError } from 'graphql-yoga';
import type { Config } from './config.ts';
import { db } from './db.ts';

export interface Viewer {
  accountId: string;
  name: string;
}

export const LOCAL_ACCOUNT_NAME = 'local';
const KEY_PREFIX = 'fg_';

export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** A new API key: returned once to the caller, stored only as its sha256. */
export async function createAccountWithKey(name: string, dailyLimit: number | null = null) {
  const key = `${KEY_PREFIX}${randomBytes(24).toString('base64url')}`;
  const account = await db.account.create({
    data: {
      name,
      dailyLimit,
      apiKeys: { create: { keyHash: hashApiKey(key), prefix: key.slice(0, 8) } },
    },
  });
  return { account, key };
}

let localAccount: Promise<Viewer> | undefined;

/** The built-in account that key-less requests use outside production. */
function getLocalAccount(): Promise<Viewer> {
  localAccount ??= db.account
    .upsert({
      where: { name: LOCAL_ACCOUNT_NAME },
      create: { name: LOCAL_ACCOUNT_NAME },
      update: {},
    })
    .then((account) => ({ accountId: account.id, name: account.name }))
    .catch((error: unknown) => {
      localAccount = undefined;
      throw error;
    });
  return localAccount;
}

const unauthenticated = (message: string) =>
  createGraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });

/** Resolves the caller from `Authorization: Bearer <key>`; a wrong key is always rejected. */
export async function authenticate(request: Request, config: Config): Promise<Viewer> {
  const header = request.headers.get('authorization');
  if (!header) {
    if (config.NODE_ENV === 'production') {
      throw unauthenticated('An API key is required: send Authorization: Bearer <key>');
    }
    return getLocalAccount();
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) {
    throw unauthenticated('Malformed Authorization header: expected "Bearer <key>"');
  }
  // One statement: the account that holds this (unrevoked) key.
  const account = await db.account.findFirst({
    where: { apiKeys: { some: { keyHash: hashApiKey(match[1]), revokedAt: null } } },
    select: { id: true, name: true },
  });
  if (!account) {
    throw unauthenticated('Invalid API key');
  }
  return { accountId: account.id, name: account.name };
}
