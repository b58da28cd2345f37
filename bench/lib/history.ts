import pg from 'pg';
import { type Api, type Summary, summarize, timed } from './client.ts';

// History: ~2000 rows inserted straight into the embedded database for the local account, then
// the same page query timed at page 1 and at deep pages reached through `after` cursors.

const PAGE = `query Page($after: String) {
  generations(first: 20, after: $after) {
    totalCount
    edges { node { id status images { url } } }
    pageInfo { endCursor }
  }
}`;

interface PageResult {
  generations: {
    totalCount: number;
    edges: { node: { id: string } }[];
    pageInfo: { endCursor: string | null };
  };
}

/** Every 10th row FAILED (no image), the rest COMPLETED with one image; 37 minutes apart. */
const INSERT = `
WITH g AS (
  INSERT INTO "Generation" (id, "ownerId", model, prompt, params, status, seed, fingerprint,
    "submitAttempts", "pollCount", "submittedAt", "deadlineAt", "createdAt", "updatedAt",
    "completedAt", "creditCost", "errorCode", "errorMessage")
  SELECT gen_random_uuid(), $1::uuid, 'flux-1.1-pro',
    'bench history ' || i || ': a lighthouse at dusk', '{}'::jsonb,
    (CASE WHEN i % 10 = 0 THEN 'FAILED' ELSE 'COMPLETED' END)::"GenerationStatus",
    i, md5('bench' || i), 1, 2, t, t + interval '10 minutes', t, t + interval '10 seconds',
    CASE WHEN i % 10 = 0 THEN NULL ELSE t + interval '10 seconds' END, 4,
    CASE WHEN i % 10 = 0 THEN 'GENERATION_FAILED' END,
    CASE WHEN i % 10 = 0 THEN 'bench: upstream failed' END
  FROM generate_series(1, $2::int) AS i,
    LATERAL (SELECT now() - interval '1 hour' - i * interval '37 minutes' AS t) AS at
  RETURNING id, status, "createdAt"
)
INSERT INTO "Image" (id, "generationId", index, "storageKey", width, height, format,
  "contentType", "byteSize", sha256, "createdAt")
SELECT gen_random_uuid(), id, 0, id || '/0', 1024, 768, 'JPG', 'image/jpeg', 180000,
  md5(id::text) || md5(id::text), "createdAt"
FROM g WHERE status = 'COMPLETED'`;

/** The SQL the keyset page amounts to (newest first, after a cursor), for EXPLAIN. */
const KEYSET_SQL = `EXPLAIN (ANALYZE, FORMAT JSON)
SELECT * FROM "Generation"
WHERE "ownerId" = $1::uuid AND ("createdAt" < $2 OR ("createdAt" = $2 AND id < $3::uuid))
ORDER BY "createdAt" DESC, id DESC LIMIT 21`;

export interface PagePlan {
  rowsScanned: number;
  rowsRemovedByFilter: number;
  indexCond: string;
}

export interface HistoryResult {
  rows: number;
  insertMs: number;
  totalCount: number;
  runsPerPage: number;
  pages: { page: number; query: Summary; plan: PagePlan | null }[];
  queries: number;
}

type PlanNode = { [key: string]: unknown; Plans?: PlanNode[] };

function scanOf(node: PlanNode): PlanNode | null {
  if (String(node['Node Type']).includes('Scan')) {
    return node;
  }
  for (const child of node.Plans ?? []) {
    const found = scanOf(child);
    if (found) {
      return found;
    }
  }
  return null;
}

export async function historyBench(
  api: Api,
  databaseUrl: string,
  options: { rows: number; runs: number; deepPages: number[] },
): Promise<HistoryResult> {
  const viewer = await api.query<{ viewer: { id: string } }>('{ viewer { id } }');
  const ownerId = viewer.viewer.id;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const inserted = await timed(() => client.query(INSERT, [ownerId, options.rows]));
    await client.query('ANALYZE "Generation"; ANALYZE "Image"');
    let queries = 0;
    const page = async (after: string | null) => {
      queries++;
      return api.query<PageResult>(PAGE, { after });
    };
    const measure = async (after: string | null) => {
      await page(after);
      const samples: number[] = [];
      for (let i = 0; i < options.runs; i++) {
        samples.push((await timed(() => page(after))).ms);
      }
      return summarize(samples);
    };
    const explain = async (after: string | null): Promise<PagePlan | null> => {
      if (!after) {
        return null;
      }
      const [iso, id] = Buffer.from(after, 'base64url').toString('utf8').split('|');
      const result = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(KEYSET_SQL, [
        ownerId,
        iso,
        id,
      ]);
      const scan = scanOf(result.rows[0]?.['QUERY PLAN'][0]?.Plan ?? {});
      return {
        rowsScanned:
          Number(scan?.['Actual Rows'] ?? 0) + Number(scan?.['Rows Removed by Filter'] ?? 0),
        rowsRemovedByFilter: Number(scan?.['Rows Removed by Filter'] ?? 0),
        indexCond: String(scan?.['Index Cond'] ?? scan?.['Node Type'] ?? ''),
      };
    };

    const first = await page(null);
    const pages: HistoryResult['pages'] = [{ page: 1, query: await measure(null), plan: null }];
    let cursor = first.generations.pageInfo.endCursor;
    let at = 2;
    for (const target of options.deepPages) {
      // Walk with `after` until `cursor` is the cursor that opens page `target`.
      while (at < target) {
        cursor = (await page(cursor)).generations.pageInfo.endCursor;
        at++;
      }
      pages.push({ page: target, query: await measure(cursor), plan: await explain(cursor) });
    }
    return {
      rows: options.rows,
      insertMs: Math.round(inserted.ms),
      totalCount: first.generations.totalCount,
      runsPerPage: options.runs,
      pages,
      queries,
    };
  } finally {
    await client.end();
  }
}
