import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { loadConfig } from '../../src/config.ts';

// One `node src/server.ts` child, driven over loopback HTTP. Every child is tracked so that a
// failed run can always end it (and the embedded PostgreSQL it started) by process id.

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

/**
 * Every setting the service reads (its config keys, plus the optional ones a default-only config
 * leaves out): none may leak into the child from the caller's shell.
 */
const SERVICE_VARS = [
  ...Object.keys(loadConfig({})),
  'DATABASE_URL',
  'APIFRAME_API_KEY',
  'REDIS_URL',
  'NODE_ENV',
  'VITEST',
];

export function childEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!SERVICE_VARS.includes(name) && !name.startsWith('SANDBOX_')) {
      env[name] = value;
    }
  }
  return { ...env, LOG_LEVEL: 'info', ...settings };
}

type LogLine = Record<string, unknown> & { msg?: string; level?: number };

export interface Fluxgate {
  pid: number;
  port: number;
  /** Spawn to the `fluxgate is ready` line, as seen by this process. */
  readyMs: number;
  /** The service's own readyMs field (from its first line of code). */
  readyLogMs: number;
  sandboxUrl: string;
  /** VmRSS of the node process (the embedded PostgreSQL runs in separate processes). */
  rssMb(): number;
  /** Whether a log line with this msg was printed so far. */
  logged(msg: string): boolean;
  /** Warn/error log lines and non-JSON output seen so far (at most 50). */
  oddLines: string[];
  /** SIGTERM, then the time until the process exited, and its exit code. */
  stop(timeoutMs?: number): Promise<{ ms: number; code: number | null; stoppedLogged: boolean }>;
}

const live = new Set<{ child: ChildProcess; dataDir: string }>();

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const isRunning = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ends every child still running and any embedded PostgreSQL they left behind. */
export async function killAll(): Promise<void> {
  for (const entry of live) {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      if (isRunning(entry.child)) {
        entry.child.kill(signal);
        for (let i = 0; i < 100 && isRunning(entry.child); i++) {
          await sleep(50);
        }
      }
    }
    // A child killed hard leaves its cluster running; its pid is in the data directory.
    const pidFile = path.join(entry.dataDir, 'postgres', 'postmaster.pid');
    if (entry.dataDir && existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      if (pid > 0 && pidAlive(pid)) {
        // SIGINT is PostgreSQL's "fast" shutdown.
        process.kill(pid, 'SIGINT');
        for (let i = 0; i < 200 && pidAlive(pid); i++) {
          await sleep(50);
        }
      }
    }
    live.delete(entry);
  }
}

/** `npm run sandbox` as a child of its own; resolves with its URL once it listens. */
export async function startSandboxProcess(settings: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, ['src/sandbox/main.ts'], {
    cwd: REPO_ROOT,
    env: childEnv(settings),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add({ child, dataDir: '' });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /"url":"(http:[^"]+)"/.exec(output)?.[1];
      if (url) {
        resolve(url);
      }
    });
    child.on('exit', (code) => reject(new Error(`sandbox exited (${code}):\n${output}`)));
    setTimeout(
      () => reject(new Error(`sandbox not listening within 30 s:\n${output}`)),
      30_000,
    ).unref();
  });
}

export async function startFluxgate(
  settings: Record<string, string>,
  timeoutMs = 120_000,
  /** The upstream it was pointed at, when that is not its built-in sandbox. */
  externalSandboxUrl?: string,
): Promise<Fluxgate> {
  const port = Number(settings.PORT);
  const dataDir = settings.DATA_DIR ?? '';
  const started = performance.now();
  const child = spawn(process.execPath, ['src/server.ts'], {
    cwd: REPO_ROOT,
    env: childEnv(settings),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const entry = { child, dataDir };
  // Kept after exit too: a child killed hard leaves its PostgreSQL running (see killAll).
  live.add(entry);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const tail: string[] = [];
  const oddLines: string[] = [];
  const seen = new Map<string, { line: LogLine; at: number }>();
  const waiters = new Set<() => void>();
  const onLine = (text: string) => {
    tail.push(text);
    if (tail.length > 80) {
      tail.shift();
    }
    let line: LogLine | null = null;
    if (text.startsWith('{')) {
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = null;
      }
    }
    if (!line || (line.level ?? 0) >= 40) {
      if (oddLines.length < 50 && text.trim()) {
        oddLines.push(text.slice(0, 600));
      }
    }
    if (line?.msg && !seen.has(line.msg)) {
      seen.set(line.msg, { line, at: performance.now() });
      for (const waiter of waiters) {
        waiter();
      }
    }
  };
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const text of lines) {
        onLine(text);
      }
    });
  }

  const waitForLog = (msg: string) =>
    new Promise<{ line: LogLine; at: number }>((resolve, reject) => {
      const check = () => {
        const hit = seen.get(msg);
        if (hit) {
          cleanup();
          resolve(hit);
        } else if (child.exitCode !== null) {
          cleanup();
          reject(
            new Error(`fluxgate exited (${child.exitCode}) before "${msg}":\n${tail.join('\n')}`),
          );
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no "${msg}" within ${timeoutMs} ms:\n${tail.join('\n')}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      void exited.then(check);
      check();
    });

  const ready = await waitForLog('fluxgate is ready');
  const sandboxUrl =
    externalSandboxUrl ??
    String(
      (await waitForLog('APIFRAME_API_KEY is unset: using the built-in sandbox upstream')).line.url,
    );
  const pid = child.pid ?? 0;
  return {
    pid,
    port,
    readyMs: ready.at - started,
    readyLogMs: Number(ready.line.readyMs),
    sandboxUrl,
    oddLines,
    logged: (msg) => seen.has(msg),
    rssMb() {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
      return Math.round((kb / 1024) * 10) / 10;
    },
    async stop(stopTimeoutMs = 30_000) {
      const t0 = performance.now();
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), stopTimeoutMs);
      });
      const code = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (code === 'timeout') {
        throw new Error(`no exit within ${stopTimeoutMs} ms of SIGTERM:\n${tail.join('\n')}`);
      }
      return { ms: performance.now() - t0, code, stoppedLogged: seen.has('stopped') };
    },
  };
}
