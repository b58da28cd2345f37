import type { Context } from '../context.ts';
import { db } from '../db.ts';
import { IMAGE_MODELS } from '../upstream/flux.ts';
import { countGenerationsToday } from './generation.ts';

export async function getViewer(ctx: Context) {
  const { accountId } = ctx.viewer;
  const [account, generationsToday] = await Promise.all([
    db.account.findUniqueOrThrow({ where: { id: accountId } }),
    countGenerationsToday(accountId),
  ]);
  return { id: account.id, name: account.name, dailyLimit: account.dailyLimit, generationsToday };
}

export const listImageModels = () => IMAGE_MODELS;
