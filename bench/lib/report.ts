import type { Summary } from './client.ts';
import type { SequentialResult, ThroughputResult, UpstreamCalls } from './generations.ts';
import type { HistoryResult } from './history.ts';

// Targets (see bench/README.md for why each one) and the two result files' contents.

export interface Results {
  meta: {
    date: string;
    node: string;
    platform: string;
    cpuModel: string;
    cpus: number;
    commit: string;
    totalMs: number;
    settings: Record<string, Record<string, string | number>>;
  };
  startup: {
    firstStartMs: number;
    firstReadyLogMs: number;
    /** Whether each start (first, restarts) logged "applied database migrations". */
    appliedMigrations: boolean[];
    /** Spawn → ready for each restart on the same DATA_DIR (after a clean stop). */
    restartsMs: number[];
    restartsReadyLogMs: number[];
    stops: { after: string; ms: number; code: number | null; stoppedLogged: boolean }[];
  };
  generation: Record<Variant, SequentialResult>;
  upstream: Record<Variant | 'concurrent', UpstreamCalls>;
  throughput: ThroughputResult;
  history: HistoryResult;
  /** RSS with the built-in sandbox rendering inside the service process. */
  memoryMb: {
    afterStart: number;
    afterConcurrent: number;
    afterHistory: number;
    afterRestart: number;
  };
  /** The same burst with the sandbox in its own process: the service's own memory. */
  serviceAlone: { wallMs: number; afterStartMb: number; afterConcurrentMb: number };
  /** Warn/error/non-JSON lines the children printed. */
  oddLines: string[];
  targets: Target[];
}

export type Variant = 'defaultPolling' | 'fastFirstPoll' | 'fastFirstPollFastWorker';

export const VARIANTS: Record<Variant, string> = {
  defaultPolling: 'service defaults',
  fastFirstPoll: 'POLL_INITIAL_MS=250',
  fastFirstPollFastWorker: 'POLL_INITIAL_MS=250 + WORKER_POLL_INTERVAL_MS=100',
};

export interface Target {
  name: string;
  target: string;
  value: string;
  met: boolean;
}

const ms = (value: number) => `${Math.round(value)} ms`;

export function evaluateTargets(r: Omit<Results, 'targets'>): Target[] {
  const mutationP95 = Math.max(...Object.values(r.generation).map((g) => g.mutation.p95));
  const secondStart = r.startup.restartsMs[0] ?? Number.NaN;
  const page1 = r.history.pages[0]?.query.p95 ?? 0;
  const deep = r.history.pages.slice(1);
  // Near the end PostgreSQL may read the few remaining rows and sort them (cheaper than the
  // index walk); keyset means it never touches the rows before the cursor, which grow with depth.
  const fromCursor = (page: number) => r.history.totalCount - (page - 1) * 20 + 1;
  const readLimit = (page: number) => Math.max(42, fromCursor(page));
  const deepRatio = Math.max(...deep.map((p) => p.query.p95)) / Math.max(page1, 0.1);
  const rss = Math.max(r.serviceAlone.afterStartMb, r.serviceAlone.afterConcurrentMb);
  const posts = Object.values(r.upstream);
  const stops = r.startup.stops.map((s) => s.ms);
  const t = (name: string, target: string, value: string, met: boolean): Target => ({
    name,
    target,
    value,
    met,
  });
  return [
    t(
      'first start (initdb + migrations)',
      '< 30 s',
      ms(r.startup.firstStartMs),
      r.startup.firstStartMs < 30_000,
    ),
    t('second start', '< 2 s', ms(secondStart), secondStart < 2000),
    t(
      'SIGTERM → exit 0',
      '< 5 s, exit 0',
      stops.map(ms).join(', '),
      r.startup.stops.every((s) => s.ms < 5000 && s.code === 0),
    ),
    t('generateImage mutation p95', '< 50 ms', ms(mutationP95), mutationP95 < 50),
    t(
      'completion p95, default polling',
      '< 4 s',
      ms(r.generation.defaultPolling.completed.p95),
      r.generation.defaultPolling.completed.p95 < 4000,
    ),
    t(
      `${r.throughput.n} concurrent: all COMPLETED`,
      '< 10 s',
      ms(r.throughput.wallMs),
      r.throughput.wallMs < 10_000,
    ),
    t(
      'generate POSTs per generation',
      'exactly 1',
      posts.map((p) => `${p.generatePosts}/${p.generations}`).join(', '),
      posts.every((p) => p.generatePosts === p.generations && p.maxPostsPerKey === 1),
    ),
    t(
      'file downloads per generation',
      'exactly 1 (one image each)',
      posts.map((p) => String(p.perGeneration.fileDownloads)).join(', '),
      posts.every((p) => p.fileDownloads === p.generations),
    ),
    t('history page 1 p95', '< 50 ms', ms(page1), page1 < 50),
    t(
      `history pages ${deep.map((p) => p.page).join(', ')} p95 vs page 1`,
      '≤ 2× page 1',
      `${deepRatio.toFixed(2)}×`,
      deepRatio <= 2,
    ),
    t(
      'history SQL rows read per deep page',
      '≤ 2 × 21, or only rows from the cursor on (never the rows before it)',
      deep.map((p) => `page ${p.page}: ${p.plan?.rowsScanned ?? '?'}`).join(', '),
      deep.every((p) => (p.plan?.rowsScanned ?? Number.POSITIVE_INFINITY) <= readLimit(p.page)),
    ),
    t('RSS of the service (sandbox in its own process)', '< 300 MB', `${rss} MB`, rss < 300),
  ];
}

const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const s = (summary: Summary) => `${summary.p50} / ${summary.p95} / ${summary.max}`;

export function markdown(r: Results): string {
  const g = r.generation;
  const lines = [
    `# fluxgate benchmark — ${r.meta.date}`,
    '',
    `Node ${r.meta.node}, ${r.meta.cpus}× ${r.meta.cpuModel}, commit ${r.meta.commit}; ` +
      `run took ${Math.round(r.meta.totalMs / 1000)} s.`,
    '',
    '| measurement | value |',
    '| --- | --- |',
    row([
      'first start (empty DATA_DIR: initdb + migrations), spawn → ready',
      `${ms(r.startup.firstStartMs)} (migrations applied: ${r.startup.appliedMigrations.join(', ')})`,
    ]),
    row(['restarts (same DATA_DIR), spawn → ready', r.startup.restartsMs.map(ms).join(', ')]),
    row(['SIGTERM → exit', r.startup.stops.map((x) => `${ms(x.ms)} (code ${x.code})`).join(', ')]),
    ...Object.entries(VARIANTS).flatMap(([key, label]) => {
      const v = g[key as Variant];
      return [
        row([`mutation p50 / p95 / max, ${label} (n=${v.mutation.n})`, `${s(v.mutation)} ms`]),
        row([`completed p50 / p95 / max, ${label}`, `${s(v.completed)} ms`]),
      ];
    }),
    row([
      'cold first generation after first start (mutation, completed)',
      `${g.defaultPolling.warmup.mutationMs} ms, ${g.defaultPolling.warmup.completedMs} ms`,
    ]),
    row([`${r.throughput.n} concurrent: wall until all COMPLETED`, ms(r.throughput.wallMs)]),
    row([
      `${r.throughput.n} concurrent: mutation p50 / p95 / max`,
      `${s(r.throughput.mutation)} ms`,
    ]),
    row([
      `${r.throughput.n} concurrent: per-generation completed p50 / p95 / max`,
      `${s(r.throughput.completed)} ms`,
    ]),
  ];
  for (const [name, u] of Object.entries(r.upstream)) {
    const p = u.perGeneration;
    const label = VARIANTS[name as Variant] ?? `${r.throughput.n} concurrent, defaults`;
    lines.push(
      row([
        `upstream per generation, ${label} (POST / status GET / file)`,
        `${p.generatePosts} / ${p.statusGets} / ${p.fileDownloads} (non-2xx: ${u.non2xx})`,
      ]),
    );
  }
  for (const page of r.history.pages) {
    const plan = page.plan ? ` (SQL read ${page.plan.rowsScanned} rows for 21)` : '';
    lines.push(
      row([
        `history page ${page.page} p50 / p95 / max (n=${page.query.n})`,
        `${s(page.query)} ms${plan}`,
      ]),
    );
  }
  lines.push(
    row([
      'history rows (totalCount)',
      `${r.history.totalCount} (${r.history.rows} inserted in ${r.history.insertMs} ms)`,
    ]),
    row([
      `RSS after start / ${r.throughput.n} concurrent / ${r.history.queries} history queries / restart (sandbox in-process)`,
      `${Object.values(r.memoryMb).join(' / ')} MB`,
    ]),
    row([
      `service alone (sandbox in its own process): RSS after start / ${r.throughput.n} concurrent; burst wall`,
      `${r.serviceAlone.afterStartMb} / ${r.serviceAlone.afterConcurrentMb} MB; ${r.serviceAlone.wallMs} ms`,
    ]),
    '',
    '| target | goal | measured | met |',
    '| --- | --- | --- | --- |',
    ...r.targets.map((x) => row([x.name, x.target, x.value, x.met ? 'yes' : '**NO**'])),
    '',
  );
  return lines.join('\n');
}
