import { EventEmitter } from 'node:events';
import {
  Logger as GraphileLogger,
  type Runner,
  run,
  type Task,
  type TaskList,
  type WorkerEvents,
} from 'graphile-worker';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import type { JobServices, TaskContext } from './context.ts';
import { downloadGeneration } from './download.ts';
import { expireGeneration } from './expire.ts';
import { pollGeneration } from './poll.ts';
import { type GenerationJobPayload, lifecycleJobKey, type TaskName } from './queue.ts';
import { startRecovery } from './recovery.ts';
import { submitGeneration } from './submit.ts';

type Step = (payload: GenerationJobPayload, task: TaskContext) => Promise<void>;

const STEPS: Record<TaskName, Step> = {
  submit: (payload, task) => submitGeneration(payload.id, task),
  poll: (payload, task) => pollGeneration(payload.id, task),
  download: (payload, task) => downloadGeneration(payload, task),
  expire: (payload, task) => expireGeneration(payload.id, task),
};

function isPayload(value: unknown): value is GenerationJobPayload {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { id?: unknown }).id === 'string'
  );
}

/** graphile-worker's own messages go to pino (debug and up), scoped to the worker. */
function graphileLogger(logger: Logger) {
  return new GraphileLogger(() => (level, message, meta) => {
    const target = level === 'error' ? 'error' : level === 'warning' ? 'warn' : 'debug';
    logger[target]({ ...meta }, message);
  });
}

function taskList(services: JobServices): TaskList {
  const list: TaskList = {};
  for (const [name, step] of Object.entries(STEPS) as [TaskName, Step][]) {
    const task: Task = async (payload, helpers) => {
      if (!isPayload(payload)) {
        helpers.logger.error(`malformed ${name} payload`);
        return;
      }
      const logger = services.logger.child({
        generationId: payload.id,
        step: name,
        attempt: helpers.job.attempts,
      });
      const started = Date.now();
      await step(payload, {
        services,
        logger,
        schedule: (next, runAt, nextPayload = { id: payload.id }) =>
          helpers
            .addJob(next, nextPayload, {
              jobKey: lifecycleJobKey(payload.id),
              runAt,
              maxAttempts: 10,
            })
            .then(() => undefined),
      });
      logger.info({ ms: Date.now() - started }, 'step done');
    };
    list[name] = task;
  }
  return list;
}

/** Starts the lifecycle worker on the given database; stop it with runner.stop(). */
export async function startWorker(
  services: JobServices,
  connectionString: string,
): Promise<Runner> {
  const pgPool = new pg.Pool({ connectionString, max: services.config.WORKER_CONCURRENCY + 2 });
  const lost = (error: Error) => services.logger.warn({ err: error }, 'worker connection lost');
  // graphile-worker asks for both: errors of idle clients and of checked-out ones.
  pgPool.on('error', lost);
  pgPool.on('connect', (client) => client.on('error', lost));
  const recovery = await startRecovery(
    connectionString,
    services.logger.child({ component: 'recovery' }),
    services.config.RECOVERY_INTERVAL_MS,
  );
  const events = new EventEmitter() as WorkerEvents;
  events.on('pool:create', ({ workerPool }) => {
    recovery.register(workerPool).catch((error: unknown) => {
      services.logger.error({ err: error }, 'could not register the worker pool');
    });
  });
  const runner = await run({
    pgPool,
    events,
    concurrency: services.config.WORKER_CONCURRENCY,
    noHandleSignals: true,
    pollInterval: services.config.WORKER_POLL_INTERVAL_MS,
    taskList: taskList(services),
    logger: graphileLogger(services.logger.child({ component: 'worker' })),
  });
  // The pool is ours, so graphile-worker leaves it open: end it once the runner has stopped.
  const stop = runner.stop.bind(runner);
  runner.stop = async (...args) => {
    await stop(...args);
    await recovery.stop();
    await pgPool.end();
  };
  return runner;
}
