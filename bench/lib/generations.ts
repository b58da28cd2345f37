import { type Api, type Summary, sleep, summarize, timed } from './client.ts';

// Generation latency (sequential) and throughput (concurrent), and the upstream calls behind
// them as the in-process sandbox recorded them.

const GENERATE = `mutation Generate($input: GenerateImageInput!) {
  generateImage(input: $input) {
    __typename
    ... on GenerateImageSuccess { generation { id status } }
    ... on Error { code message }
  }
}`;

const READ = `query Read($id: ID!) {
  generation(id: $id) { status images { url } error { code message } }
}`;

const READ_MANY = `query ReadMany($ids: [ID!]!) {
  nodes(ids: $ids) { ... on Generation { id status images { url } error { code } } }
}`;

interface GenerateResult {
  generateImage: { __typename: string; generation?: { id: string }; code?: string };
}
interface GenerationState {
  id?: string;
  status: string;
  images: { url: string }[];
  error: { code: string; message?: string } | null;
}

const FAILED = ['FAILED', 'CANCELLED', 'EXPIRED'];
const POLL_EVERY_MS = 25;
const DEADLINE_MS = 60_000;

export async function startGeneration(api: Api, prompt: string): Promise<string> {
  const data = await api.query<GenerateResult>(GENERATE, { input: { prompt } });
  const id = data.generateImage.generation?.id;
  if (!id) {
    throw new Error(`generateImage refused: ${JSON.stringify(data.generateImage)}`);
  }
  return id;
}

const isDone = (state: GenerationState | null) => {
  if (state && FAILED.includes(state.status)) {
    throw new Error(`generation ended ${state.status}: ${JSON.stringify(state.error)}`);
  }
  return state?.status === 'COMPLETED' && state.images.length > 0;
};

/** Mutation → COMPLETED with its image stored, polling generation(id) every 25 ms. */
export async function timedGeneration(api: Api, prompt: string) {
  const started = performance.now();
  const id = await startGeneration(api, prompt);
  const mutationMs = performance.now() - started;
  while (performance.now() - started < DEADLINE_MS) {
    const data = await api.query<{ generation: GenerationState | null }>(READ, { id });
    if (isDone(data.generation)) {
      return { id, mutationMs, completedMs: performance.now() - started };
    }
    await sleep(POLL_EVERY_MS);
  }
  throw new Error(`generation ${id} not COMPLETED within ${DEADLINE_MS} ms`);
}

export interface SequentialResult {
  /** The first (cold) generation of the process, not part of the samples. */
  warmup: { mutationMs: number; completedMs: number };
  mutation: Summary;
  completed: Summary;
}

export async function sequential(api: Api, n: number, label: string): Promise<SequentialResult> {
  const warm = await timedGeneration(api, `${label} warm-up: a lighthouse at dusk`);
  const mutation: number[] = [];
  const completed: number[] = [];
  for (let i = 0; i < n; i++) {
    const run = await timedGeneration(api, `${label} ${i}: a lighthouse at dusk, oil painting`);
    mutation.push(run.mutationMs);
    completed.push(run.completedMs);
  }
  return {
    warmup: { mutationMs: Math.round(warm.mutationMs), completedMs: Math.round(warm.completedMs) },
    mutation: summarize(mutation),
    completed: summarize(completed),
  };
}

export interface ThroughputResult {
  n: number;
  /** From the first mutation sent to every generation COMPLETED. */
  wallMs: number;
  /** All n mutations sent at once: their response times. */
  mutation: Summary;
  /** Per generation: its mutation sent → seen COMPLETED. */
  completed: Summary;
}

export async function concurrent(api: Api, n: number): Promise<ThroughputResult> {
  const started = performance.now();
  const sent = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      timed(() => startGeneration(api, `concurrent ${i}: a harbour in fog, watercolour`)),
    ),
  );
  const ids = sent.map((s) => s.value);
  const doneAt = new Map<string, number>();
  while (doneAt.size < n && performance.now() - started < DEADLINE_MS * 2) {
    const data = await api.query<{ nodes: (GenerationState | null)[] }>(READ_MANY, { ids });
    for (const node of data.nodes) {
      if (node?.id && !doneAt.has(node.id) && isDone(node)) {
        doneAt.set(node.id, performance.now() - started);
      }
    }
    await sleep(POLL_EVERY_MS);
  }
  if (doneAt.size < n) {
    throw new Error(`only ${doneAt.size} of ${n} concurrent generations COMPLETED`);
  }
  const times = [...doneAt.values()];
  return {
    n,
    wallMs: Math.round(Math.max(...times)),
    mutation: summarize(sent.map((s) => s.ms)),
    completed: summarize(times),
  };
}

interface RecordedRequest {
  method: string;
  path: string;
  idempotencyKey?: string;
  status: number;
}

export async function sandboxRequests(sandboxUrl: string): Promise<RecordedRequest[]> {
  const response = await fetch(`${sandboxUrl}/__sandbox/requests`);
  return (await response.json()) as RecordedRequest[];
}

export interface UpstreamCalls {
  generations: number;
  generatePosts: number;
  /** Most generate POSTs carrying the same Idempotency-Key (one key per generation). */
  maxPostsPerKey: number;
  statusGets: number;
  fileDownloads: number;
  other: number;
  non2xx: number;
  perGeneration: { generatePosts: number; statusGets: number; fileDownloads: number };
}

/** Classifies the requests the sandbox recorded since `from` (an earlier length). */
export function countUpstream(
  requests: RecordedRequest[],
  from: number,
  generations: number,
): UpstreamCalls {
  const slice = requests.slice(from);
  const posts = slice.filter((r) => r.method === 'POST' && r.path === '/v2/images/generate');
  const perKey = new Map<string, number>();
  for (const post of posts) {
    const key = post.idempotencyKey ?? '(none)';
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
  }
  const statusGets = slice.filter((r) => r.method === 'GET' && r.path.startsWith('/v2/jobs/'));
  const files = slice.filter((r) => r.path.startsWith('/files/'));
  const per = (count: number) => Math.round((count / generations) * 100) / 100;
  return {
    generations,
    generatePosts: posts.length,
    maxPostsPerKey: Math.max(0, ...perKey.values()),
    statusGets: statusGets.length,
    fileDownloads: files.length,
    other: slice.length - posts.length - statusGets.length - files.length,
    non2xx: slice.filter((r) => r.status < 200 || r.status >= 300).length,
    perGeneration: {
      generatePosts: per(posts.length),
      statusGets: per(statusGets.length),
      fileDownloads: per(files.length),
    },
  };
}
