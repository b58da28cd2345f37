import type { JobServices } from '../jobs/context.ts';
import { applyWebhookEvent } from '../jobs/webhook-events.ts';
import { parseWebhookPayload, WEBHOOK_SIGNATURE_HEADER } from '../upstream/webhook.ts';

const MAX_WEBHOOK_BYTES = 256 * 1024;

const status = (code: number, error?: string) =>
  error ? Response.json({ error }, { status: code }) : new Response(null, { status: code });

/**
 * POST /webhooks/apiframe: the signature is checked over the raw bytes before anything is
 * parsed; a bad or missing one is refused with 401 and changes nothing.
 */
export async function handleApiframeWebhook(
  request: Request,
  services: JobServices,
): Promise<Response> {
  if (!services.webhookUrl) {
    return status(404, 'webhooks are off');
  }
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > MAX_WEBHOOK_BYTES) {
    return status(413, 'body too large');
  }
  const rawBody = Buffer.from(await request.arrayBuffer());
  if (rawBody.length > MAX_WEBHOOK_BYTES) {
    return status(413, 'body too large');
  }
  if (!services.verifyWebhook(rawBody, request.headers.get(WEBHOOK_SIGNATURE_HEADER))) {
    services.logger.warn({ bytes: rawBody.length }, 'webhook refused: bad or missing signature');
    return status(401, 'invalid signature');
  }
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return status(400, 'body is not JSON');
  }
  const event = parseWebhookPayload(json);
  if (!event) {
    return status(400, 'not an apiframe job event');
  }
  const generationId = await applyWebhookEvent(services, event);
  services.logger.info(
    { generationId, event: event.event, upstreamStatus: event.status, progress: event.progress },
    'webhook',
  );
  return status(204);
}
