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

/**
 * The SQL the keyset page amounts to (newest first, after a cursor), for EXPLAIN: it must stay
 * in step with beyond() in src/resolvers/history.ts.
 */
const KEYSET_SQL = `EXPLAIN (ANALYZE, FORMAT JSON)
SELECT * FROM "Generation"
WHERE "ownerId" = $1::uuid AND "createdAt" <= $2
  AND ("createdAt" < $2 OR ("createdAt" = $2 AND id < $3::uuid))
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

    // Walk with `after` from page 1, keeping the cursor that opens each page to measure.
    const first = await page(null);
    const starts: { page: number; after: string | null }[] = [{ page: 1, after: null }];
    let cursor = first.generations.pageInfo.endCursor;
    for (let at = 2; at <= Math.max(...options.deepPages); at++) {
      if (options.deepPages.includes(at)) {
        starts.push({ page: at, after: cursor });
      }
      cursor = (await page(cursor)).generations.pageInfo.endCursor;
    }
    // Interleaved rounds (page 1, deep, deeper, ...), so background work hits every depth alike.
    const samples = starts.map(() => [] as number[]);
    for (let round = -5; round < options.runs; round++) {
      for (const [i, start] of starts.entries()) {
        const { ms } = await timed(() => page(start.after));
        if (round >= 0) {
          samples[i]?.push(ms);
        }
      }
    }
    const pages: HistoryResult['pages'] = [];
    for (const [i, start] of starts.entries()) {
      pages.push({
        page: start.page,
        query: summarize(samples[i] ?? []),
        plan: await explain(start.after),
      });
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
