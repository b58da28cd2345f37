// node scripts/migrate.ts deploy | create <name>   (uses DATABASE_URL)
// `npm run db:migrate` applies pending migrations; `npm run db:migration -- <name>` writes one
// from the change to prisma/schema.prisma since the last migration.
import path from 'node:path';
import { create, deploy } from '../src/migrations.ts';

const [command, name] = process.argv.slice(2);
const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is required (e.g. postgresql://localhost:5432/fluxgate)');
  process.exit(2);
}
if (command === 'deploy') {
  const applied = await deploy(url);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'no pending migrations');
} else if (command === 'create' && name) {
  const dir = await create(url, name);
  console.log(
    dir ? `created ${path.relative(process.cwd(), dir)}` : 'schema unchanged: no migration',
  );
} else {
  console.error('usage: node scripts/migrate.ts create <name> | deploy');
  process.exit(2);
}
