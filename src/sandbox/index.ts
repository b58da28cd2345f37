export { sandboxOptionsFromEnv } from './env.ts';
export type {
  HttpFault,
  HttpFaultRoute,
  ResultShape,
  SandboxFaults,
  SandboxFaultsPatch,
} from './faults.ts';
export type { SandboxJob } from './jobs.ts';
export {
  createSandbox,
  DEFAULT_SANDBOX_API_KEY,
  type RecordedRequest,
  type Sandbox,
  type SandboxLogger,
  type SandboxOptions,
} from './server.ts';
