import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

/** The environment of a child fluxgate: this process's, minus what a fresh clone lacks. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const name of [
    'DATABASE_URL',
    'APIFRAME_API_KEY',
    'APIFRAME_BASE_URL',
    'NODE_ENV',
    'VITEST',
  ]) {
    delete base[name];
  }
  return { ...base, LOG_LEVEL: 'info', ...env };
}

export interface RunningProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the first JSON log line whose msg matches. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

const running = new Set<ChildProcess>();

/** Kills children a failed test left behind. */
export function killAll(): void {
  for (const child of running) {
    child.kill('SIGKILL');
  }
}

export function startProcess(args: string[], env: NodeJS.ProcessEnv): RunningProcess {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) {
      listener();
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    waitForLog(msg, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const find = () => {
          for (const line of output.split('\n')) {
            if (line.startsWith('{') && line.includes(`"msg":"${msg}"`)) {
              listeners.delete(find);
              clearTimeout(timer);
              resolve(JSON.parse(line));
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(find);
          reject(new Error(`no "${msg}" log within ${timeoutMs} ms; output:\n${output}`));
        }, timeoutMs);
        listeners.add(find);
        exited.then(() => find());
        find();
      });
    },
  };
}
