import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.ts';
import { freePort, killAll, REPO_ROOT, startFluxgate, startSandboxProcess } from './lib/child.ts';
import { createApi } from './lib/client.ts';
import { concurrent, countUpstream, sandboxRequests, sequential } from './lib/generations.ts';
import { historyBench } from './lib/history.ts';
import { evaluateTargets, markdown, type Results } from './lib/report.ts';

// `npm run bench`: drives real `node src/server.ts` children over loopback HTTP and writes
// bench/results/latest.{json,md}. Three processes, one after another, share one DATA_DIR: the
// first starts on an empty directory (initdb + migrations) with the default polling settings;
// the restarts use POLL_INITIAL_MS=250, then also WORKER_POLL_INTERVAL_MS=100. The children are
// always ended, also on failure. See bench/README.md for what each number means.

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
  const thirdSettings = { ...secondSettings, WORKER_POLL_INTERVAL_MS: '100' };
  const log = (message: string) =>
    console.error(`[bench ${((performance.now() - began) / 1000).toFixed(1)} s] ${message}`);

  try {
    log('first start (empty DATA_DIR)');
    const first = await startFluxgate(firstSettings);
    const migrated = (c: typeof first) => c.logged('applied database migrations');
    const firstMigrated = migrated(first);
    const api = createApi(first.port);
    const afterStart = first.rssMb();

    log(`${SEQUENTIAL_N} sequential generations (after one warm-up), default polling`);
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

    // Two restarts on the same DATA_DIR: a short first poll, then also a short worker tick.
    const restarts = [];
    for (const settings of [secondSettings, thirdSettings]) {
      log(`restart: ${JSON.stringify(settings)}`);
      const child = await startFluxgate(settings);
      const rss = child.rssMb();
      const childApi = createApi(child.port);
      const from = (await sandboxRequests(child.sandboxUrl)).length;
      const timings = await sequential(childApi, SEQUENTIAL_N, 'restart');
      const calls = countUpstream(await sandboxRequests(child.sandboxUrl), from, SEQUENTIAL_N + 1);
      const stop = await child.stop();
      restarts.push({ child, rss, timings, calls, stop, migrated: migrated(child) });
    }
    const [second, third] = restarts as [(typeof restarts)[0], (typeof restarts)[0]];

    // The service's own memory: the burst again, with the sandbox (which renders the images)
    // in a process of its own, as a real deployment talks to apiframe.
    log(`service alone: ${CONCURRENT_N} concurrent, the sandbox in its own process`);
    const sandboxUrl = await startSandboxProcess({
      SANDBOX_PORT: String(await freePort()),
      SANDBOX_LATENCY_MS: '1000',
    });
    const alone = await startFluxgate(
      {
        ...common,
        PORT: String(await freePort()),
        APIFRAME_API_KEY: 'afk_sandbox_local',
        APIFRAME_BASE_URL: sandboxUrl,
      },
      undefined,
      sandboxUrl,
    );
    const aloneAfterStart = alone.rssMb();
    const aloneThroughput = await concurrent(createApi(alone.port), CONCURRENT_N);
    const aloneAfterConcurrent = alone.rssMb();
    await alone.stop();

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
          third: { ...thirdSettings, DATA_DIR: '<temp>' },
          serviceDefaults: serviceDefaults(),
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
        appliedMigrations: [firstMigrated, ...restarts.map((r) => r.migrated)],
        restartsMs: restarts.map((r) => Math.round(r.child.readyMs)),
        restartsReadyLogMs: restarts.map((r) => r.child.readyLogMs),
        stops: [
          { after: 'first run', ...firstStop, ms: Math.round(firstStop.ms) },
          ...restarts.map((r, i) => ({
            after: `restart ${i + 1}`,
            ...r.stop,
            ms: Math.round(r.stop.ms),
          })),
        ],
      },
      generation: {
        defaultPolling,
        fastFirstPoll: second.timings,
        fastFirstPollFastWorker: third.timings,
      },
      upstream: {
        defaultPolling: upstreamDefault,
        concurrent: upstreamConcurrent,
        fastFirstPoll: second.calls,
        fastFirstPollFastWorker: third.calls,
      },
      throughput,
      history,
      memoryMb: { afterStart, afterConcurrent, afterHistory, afterRestart: second.rss },
      serviceAlone: {
        wallMs: aloneThroughput.wallMs,
        afterStartMb: aloneAfterStart,
        afterConcurrentMb: aloneAfterConcurrent,
      },
      oddLines: [first, ...restarts.map((r) => r.child)].flatMap((c) => c.oddLines),
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
    log('done');
  }
}

/** The service's own defaults for the settings that shape these numbers. */
function serviceDefaults(): Record<string, string | number> {
  const config = loadConfig({});
  return {
    POLL_INITIAL_MS: config.POLL_INITIAL_MS,
    POLL_MAX_MS: config.POLL_MAX_MS,
    WORKER_POLL_INTERVAL_MS: config.WORKER_POLL_INTERVAL_MS,
    WORKER_CONCURRENCY: config.WORKER_CONCURRENCY,
    WEBHOOKS: config.WEBHOOKS,
    LOG_LEVEL: 'info',
  };
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
