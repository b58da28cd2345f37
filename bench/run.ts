import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, killAll, REPO_ROOT, startFluxgate } from './lib/child.ts';
import { createApi } from './lib/client.ts';
import { concurrent, countUpstream, sandboxRequests, sequential } from './lib/generations.ts';
import { historyBench } from './lib/history.ts';
import { evaluateTargets, markdown, type Results } from './lib/report.ts';

// `npm run bench`: drives real `node src/server.ts` children over loopback HTTP and writes
// bench/results/latest.{json,md}. Two processes share one DATA_DIR: the first starts on an
// empty directory (initdb + migrations) with the default polling settings, the second restarts
// on it with POLL_INITIAL_MS=250. See bench/README.md for what each number means.

const SEQUENTIAL_N = 10;
const CONCURRENT_N = 40;
const HISTORY = { rows: 2000, runs: 50, deepPages: [50, 100] };
const RESULTS_DIR = path.join(import.meta.dirname, 'results');

async function main(): Promise<void> {
  const began = performance.now();
  const parent = mkdtempSync(path.join(tmpdir(), 'fluxgate-bench-'));
  // As root, the embedded cluster runs as the `postgres` OS user, which must reach DATA_DIR.
  chmodSync(parent, 0o755);
  const dataDir = path.join(parent, 'data');
  const pgPort = await freePort();
  const common = {
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(pgPort),
    SANDBOX_LATENCY_MS: '1000',
  };
  const firstSettings = { ...common, PORT: String(await freePort()) };
  const secondSettings = { ...common, PORT: String(await freePort()), POLL_INITIAL_MS: '250' };
  const log = (message: string) =>
    console.error(`[bench ${((performance.now() - began) / 1000).toFixed(1)} s] ${message}`);

  try {
    log('first start (empty DATA_DIR)');
    const first = await startFluxgate(firstSettings);
    const api = createApi(first.port);
    const afterStart = first.rssMb();

    log(`${SEQUENTIAL_N} sequential generations, default polling`);
    let mark = (await sandboxRequests(first.sandboxUrl)).length;
    const defaultPolling = await sequential(api, SEQUENTIAL_N, 'default');
    let requests = await sandboxRequests(first.sandboxUrl);
    const upstreamDefault = countUpstream(requests, mark, SEQUENTIAL_N + 1);

    log(`${CONCURRENT_N} concurrent generations`);
    mark = requests.length;
    const throughput = await concurrent(api, CONCURRENT_N);
    requests = await sandboxRequests(first.sandboxUrl);
    const upstreamConcurrent = countUpstream(requests, mark, CONCURRENT_N);
    const afterConcurrent = first.rssMb();

    log(`history: ${HISTORY.rows} rows, pages 1 and ${HISTORY.deepPages.join(', ')}`);
    const databaseUrl = `postgresql://fluxgate:fluxgate@127.0.0.1:${pgPort}/fluxgate`;
    const history = await historyBench(api, databaseUrl, HISTORY);
    const afterHistory = first.rssMb();

    log('SIGTERM');
    const firstStop = await first.stop();

    log('second start (same DATA_DIR), POLL_INITIAL_MS=250');
    const second = await startFluxgate(secondSettings);
    const afterSecondStart = second.rssMb();
    const fastApi = createApi(second.port);
    mark = (await sandboxRequests(second.sandboxUrl)).length;
    const fastFirstPoll = await sequential(fastApi, SEQUENTIAL_N, 'fast');
    const upstreamFast = countUpstream(
      await sandboxRequests(second.sandboxUrl),
      mark,
      SEQUENTIAL_N + 1,
    );
    const secondStop = await second.stop();

    const partial: Omit<Results, 'targets'> = {
      meta: {
        date: new Date().toISOString(),
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        cpus: cpus().length,
        commit: gitCommit(),
        totalMs: Math.round(performance.now() - began),
        settings: {
          first: { ...firstSettings, DATA_DIR: '<temp>', note: 'service defaults otherwise' },
          second: { ...secondSettings, DATA_DIR: '<temp>' },
          defaults: { POLL_INITIAL_MS: 2000, POLL_MAX_MS: 5000, WORKER_POLL_INTERVAL_MS: 1000 },
          bench: {
            sequentialN: SEQUENTIAL_N,
            concurrentN: CONCURRENT_N,
            clientPollMs: 25,
            historyRows: HISTORY.rows,
            historyRunsPerPage: HISTORY.runs,
            historyPageSize: 20,
          },
        },
      },
      startup: {
        firstStartMs: Math.round(first.readyMs),
        firstReadyLogMs: first.readyLogMs,
        secondStartMs: Math.round(second.readyMs),
        secondReadyLogMs: second.readyLogMs,
        stops: [
          { after: 'first run', ...firstStop, ms: Math.round(firstStop.ms) },
          { after: 'second run', ...secondStop, ms: Math.round(secondStop.ms) },
        ],
      },
      generation: { defaultPolling, fastFirstPoll },
      upstream: {
        defaultPolling: upstreamDefault,
        concurrent: upstreamConcurrent,
        fastFirstPoll: upstreamFast,
      },
      throughput,
      history,
      memoryMb: { afterStart, afterConcurrent, afterHistory, afterSecondStart },
      oddLines: [...first.oddLines, ...second.oddLines],
    };
    const results: Results = { ...partial, targets: evaluateTargets(partial) };
    const table = markdown(results);
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(path.join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(path.join(RESULTS_DIR, 'latest.md'), table);
    console.log(table);
    if (results.oddLines.length > 0) {
      log(
        `${results.oddLines.length} warn/error/non-JSON lines from the service (see latest.json)`,
      );
    }
  } finally {
    await killAll();
    rmSync(parent, { recursive: true, force: true });
  }
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void killAll().finally(() => process.exit(130));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
