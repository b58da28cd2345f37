import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, killAll, startFluxgate } from './lib/child.ts';
import { createApi, sleep, summarize } from './lib/client.ts';
import { startGeneration } from './lib/generations.ts';

// `node bench/lifecycle.ts` (part of `npm run bench`): upstream status polls per completed job
// and the lag from upstream's completion to COMPLETED here, with webhooks on and off. The
// service runs as a real child (embedded PostgreSQL, built-in sandbox that renders for 3 s and
// calls PUBLIC_URL back over loopback HTTP); default polling settings. Writes
// bench/results/lifecycle.{json,md}.

const N = 20;
const SANDBOX_LATENCY_MS = '3000';
const RESULTS_DIR = path.join(import.meta.dirname, 'results');

interface Tracked {
  status: string;
  completedAt: string | null;
  tracking: { statusPolls: number; webhookEvents: number; upstreamCompletedAt: string | null };
}

const READ = `query ($id: ID!) { generation(id: $id) { status completedAt
  tracking { statusPolls webhookEvents upstreamCompletedAt } } }`;

async function runMode(webhooks: 'on' | 'off', dataDir: string) {
  const port = await freePort();
  const child = await startFluxgate({
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(await freePort()),
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    WEBHOOKS: webhooks,
    SANDBOX_LATENCY_MS,
  });
  try {
    const api = createApi(port);
    // Staggered like real traffic, so the jobs do not all finish in the same poll round.
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      ids.push(await startGeneration(api, `lifecycle ${webhooks} ${i}`));
      await sleep(150);
    }
    const done: Tracked[] = [];
    for (const id of ids) {
      for (let attempt = 0; ; attempt++) {
        const { generation } = await api.query<{ generation: Tracked }>(READ, { id });
        if (generation.status === 'COMPLETED') {
          done.push(generation);
          break;
        }
        if (
          generation.status !== 'PENDING' &&
          !['QUEUED', 'PROCESSING'].includes(generation.status)
        ) {
          throw new Error(`generation ended ${generation.status}`);
        }
        if (attempt > 1200) {
          throw new Error('not COMPLETED within 60 s');
        }
        await sleep(50);
      }
    }
    const lag = done.map(
      (g) => Date.parse(g.completedAt ?? '') - Date.parse(g.tracking.upstreamCompletedAt ?? ''),
    );
    const polls = done.map((g) => g.tracking.statusPolls);
    return {
      webhooks,
      n: done.length,
      pollsPerJob: {
        mean: polls.reduce((a, b) => a + b, 0) / polls.length,
        max: Math.max(...polls),
      },
      webhookEventsPerJob: done.reduce((a, g) => a + g.tracking.webhookEvents, 0) / done.length,
      // With 20 samples the nearest-rank p99 is the maximum.
      lagMs: { ...summarize(lag), p99: summarize(lag).max },
    };
  } finally {
    await child.stop();
  }
}

async function main() {
  const parent = mkdtempSync(path.join(tmpdir(), 'fluxgate-lifecycle-'));
  chmodSync(parent, 0o755);
  try {
    const off = await runMode('off', path.join(parent, 'off'));
    const on = await runMode('on', path.join(parent, 'on'));
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      settings: { n: N, sandboxLatencyMs: Number(SANDBOX_LATENCY_MS), polling: 'defaults' },
      modes: [off, on],
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(
      path.join(RESULTS_DIR, 'lifecycle.json'),
      `${JSON.stringify(results, null, 2)}\n`,
    );
    const rows = results.modes.map(
      (m) =>
        `| ${m.webhooks} | ${m.pollsPerJob.mean.toFixed(2)} (max ${m.pollsPerJob.max}) | ${m.webhookEventsPerJob.toFixed(1)} | ${m.lagMs.p50} / ${m.lagMs.p99} / ${m.lagMs.mean} ms |`,
    );
    const md = [
      `# Lifecycle: webhooks on and off — ${results.date}`,
      '',
      `Node ${results.node}; ${N} generations per mode, 150 ms apart; the sandbox renders for ${SANDBOX_LATENCY_MS} ms; default polling (2 s ×1.5 capped at 5 s; 30 s with webhooks on).`,
      'Lag = COMPLETED here (images stored) − upstream completedAt; p99 is the max of 20.',
      '',
      '| webhooks | status polls per job | webhook events per job | lag p50 / p99 / mean |',
      '| --- | --- | --- | --- |',
      ...rows,
      '',
    ].join('\n');
    writeFileSync(path.join(RESULTS_DIR, 'lifecycle.md'), md);
    console.log(md);
  } finally {
    await killAll();
    rmSync(parent, { recursive: true, force: true });
  }
}

await main();
