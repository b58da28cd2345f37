export { sandboxOptionsFromEnv } from './env.ts';
export type {
  HttpFault,
  HttpFaultRoute,
  ResultShape,
  SandboxFaults,
  SandboxFaultsPatch,
} from './faults.ts';
export type { SandboxJob, WebhookStatus } from './jobs.ts';
export {
  createSandbox,
  DEFAULT_SANDBOX_API_KEY,
  type RecordedRequest,
  type Sandbox,
  type SandboxLogger,
  type SandboxOptions,
} from './server.ts';
export { WEBHOOK_TIMEOUT_MS, type WebhookDelivery } from './webhooks.ts';
