// npm run account:create -- <name> [--daily-limit N]
// Creates an account and prints its API key once, alone on the last line (for scripts:
// `KEY=$(npm run -s account:create -- alice | tail -n 1)`). Only the key's sha256 is stored.
import { loadConfig } from '../src/config.ts';
import { prepareDatabase } from '../src/database.ts';

const args = process.argv.slice(2);
const limitAt = args.indexOf('--daily-limit');
const dailyLimit = limitAt >= 0 ? Number(args[limitAt + 1]) : null;
const name = args.find((arg, i) => !arg.startsWith('--') && (limitAt < 0 || i !== limitAt + 1));
if (!name || (dailyLimit !== null && !(Number.isInteger(dailyLimit) && dailyLimit >= 0))) {
  console.error('usage: npm run account:create -- <name> [--daily-limit N]');
  process.exit(2);
}

const config = loadConfig();
const database = await prepareDatabase(config, (message) => console.error(message));
const { createAccountWithKey } = await import('../src/auth.ts');
const { db } = await import('../src/db.ts');
try {
  if (await db.account.findUnique({ where: { name } })) {
    console.error(`An account named "${name}" already exists.`);
    process.exitCode = 1;
  } else {
    const created = await createAccountWithKey(name, dailyLimit);
    console.log(`Created account "${name}" (${created.account.id}).`);
    console.log('Its API key is shown once; send it as "Authorization: Bearer <key>":');
    console.log(created.key);
  }
} finally {
  await db.$disconnect();
  await database.stop();
}
