/**
 * The whole Express adapter: an Express request as a web-standard `Request`, and a `Response` written
 * back through Express. Works with Express 4.21+ and 5; imports nothing from Express at run time.
 *
 * @module
 */
import type { RequestContext } from '../http/sign-in-handlers.js';
import type { ExpressHandler, ExpressNext, ExpressRequest, ExpressResponse } from './types.js';

/** Largest body the adapter forwards from a request Express has not parsed, bytes. */
export const MAX_FORWARDED_BODY_BYTES = 1024 * 1024;

async function rawBody(req: ExpressRequest): Promise<Buffer | undefined> {
  const parsed = req.body;
  if (req.readableEnded || (req as ExpressRequest & { _body?: boolean })._body === true) {
    // A body parser consumed the stream: encode what it parsed back the way the client sent it.
    if (parsed === undefined || parsed === null) return undefined;
    if (Buffer.isBuffer(parsed)) return parsed;
    if (typeof parsed === 'string') return Buffer.from(parsed, 'utf8');
    const type = String(req.headers['content-type'] ?? '');
    if (type.includes('application/x-www-form-urlencoded')) {
      return Buffer.from(new URLSearchParams(parsed as Record<string, string>).toString(), 'utf8');
    }
    return Buffer.from(JSON.stringify(parsed), 'utf8');
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > MAX_FORWARDED_BODY_BYTES) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The request as a web-standard `Request` (the body re-encoded if a body parser already ran). */
export async function toWebRequest(req: ExpressRequest): Promise<Request> {
  const url = new URL(req.originalUrl || req.url, `${req.protocol}://${req.headers.host ?? 'localhost'}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  const method = req.method.toUpperCase();
  if (method === 'GET' || method === 'HEAD') return new Request(url, { method, headers });
  const body = await rawBody(req);
  headers.delete('content-length');
  headers.delete('transfer-encoding');
  return new Request(url, { method, headers, ...(body === undefined ? {} : { body }) });
}

/** What the adapter passes along that `Request` does not carry. */
export function contextOf(req: ExpressRequest): RequestContext {
  return req.ip === undefined ? {} : { clientAddress: req.ip };
}

/** Writes a web-standard `Response` through Express (every `Set-Cookie` kept). */
export async function sendWebResponse(res: ExpressResponse, response: Response): Promise<void> {
  res.status(response.status);
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  const body = response.body === null ? undefined : Buffer.from(await response.arrayBuffer());
  res.end(body);
}

/** An Express handler around a web-standard one; errors go to `next`. */
export function expressHandler(
  handler: (request: Request, context: RequestContext, req: ExpressRequest) => Promise<Response | undefined>,
): ExpressHandler {
  return (req: ExpressRequest, res: ExpressResponse, next: ExpressNext) => {
    toWebRequest(req)
      .then((request) => handler(request, contextOf(req), req))
      .then((response) => (response === undefined ? next() : sendWebResponse(res, response)))
      .catch(next);
  };
}
