/**
 * Web-standard responses for the HTTP core: self-contained HTML pages that cannot be framed or run
 * scripts, JSON bodies, redirects, OAuth error bodies, and the status an error code maps to. Every
 * response that shows or leads to a secret is `no-store` with no referrer.
 *
 * @module
 */
import type { CredentialErrorCode } from '../errors.js';
import { isCredentialError } from '../errors.js';
import { type FailureContext, logFailure } from '../internal/failure-log.js';
import type { Logger } from '../logger.js';

/** What the `Headers` constructor accepts (declared here: Node's types have no global `HeadersInit`). */
export type HeadersInit = ConstructorParameters<typeof Headers>[0];

/** Headers on every response of the HTTP core: never cached, never leaking a referrer. */
export const NO_STORE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
});

/**
 * The Content-Security-Policy of every page: no scripts, no external resources, no framing, forms
 * only to `formAction` sources (`'self'` and, for the consent page, the client's redirect target,
 * because browsers apply `form-action` to the redirect that follows a form post).
 */
export function pageSecurityPolicy(formAction: readonly string[] = ["'self'"]): string {
  return [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    "img-src 'none'",
    `form-action ${formAction.join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** One block of a page: a paragraph, a preformatted code block, a link, or raw (already escaped) HTML. */
export type PageBlock =
  | readonly ['p', string]
  | readonly ['code', string]
  | readonly ['link', string]
  | readonly ['html', string];

/** A small self-contained HTML document (no scripts, no external resources). */
export function renderPage(title: string, blocks: readonly PageBlock[]): string {
  const body = blocks
    .map(([kind, text]) => {
      if (kind === 'code') return `<pre><code>${escapeHtml(text)}</code></pre>`;
      if (kind === 'link') return `<p><a href="${escapeHtml(text)}">Continue</a></p>`;
      if (kind === 'html') return text;
      return `<p>${escapeHtml(text)}</p>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;line-height:1.5}pre{background:#f4f4f4;padding:1rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}dt{font-weight:600}button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.75rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
}

/** An HTML page response with the security headers. */
export function htmlResponse(
  status: number,
  title: string,
  blocks: readonly PageBlock[],
  options: { headers?: HeadersInit | undefined; formAction?: readonly string[] } = {},
): Response {
  const headers = new Headers(options.headers);
  for (const [name, value] of Object.entries(NO_STORE_HEADERS)) headers.set(name, value);
  headers.set('content-type', 'text/html; charset=utf-8');
  headers.set('content-security-policy', pageSecurityPolicy(options.formAction));
  headers.set('x-frame-options', 'DENY');
  return new Response(renderPage(title, blocks), { status, headers });
}

/** A JSON response, `no-store`. */
export function jsonResponse(
  status: number,
  body: unknown,
  init: { headers?: HeadersInit | undefined } = {},
): Response {
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(NO_STORE_HEADERS)) headers.set(name, value);
  headers.set('content-type', 'application/json');
  return new Response(JSON.stringify(body), { status, headers });
}

/** A redirect, `no-store`, with extra headers (cookies). */
export function redirectResponse(
  location: string,
  status = 302,
  init: { headers?: HeadersInit } = {},
): Response {
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(NO_STORE_HEADERS)) headers.set(name, value);
  headers.set('location', location);
  return new Response(null, { status, headers });
}

/** True when the client asked for JSON (`Accept: application/json` without HTML, or `?format=json`). */
export function wantsJson(request: Request): boolean {
  if (new URL(request.url).searchParams.get('format') === 'json') return true;
  const accept = request.headers.get('accept') ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

/**
 * The HTTP status of each error code. Typed as a total record so a new code cannot be forgotten.
 * Storage and configuration failures are 5xx: an operator problem, never a client's.
 */
export const HTTP_STATUS_BY_CODE: Readonly<Record<CredentialErrorCode, number>> = Object.freeze({
  INVALID_INPUT: 400,
  REAUTH_REQUIRED: 401,
  INVALID_TOKEN: 401,
  ACCESS_DENIED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  CORRUPT: 500,
  CONFIGURATION: 500,
  PROVIDER_ERROR: 502,
  STORAGE_UNAVAILABLE: 503,
  STORAGE_FORBIDDEN: 503,
  AUTHORIZATION_REQUIRED: 403,
});

/** Codes whose message may reach an HTTP client (they describe the client's own request). */
const CLIENT_VISIBLE_CODES: ReadonlySet<CredentialErrorCode> = new Set([
  'INVALID_INPUT',
  'INVALID_TOKEN',
  'REAUTH_REQUIRED',
  'ACCESS_DENIED',
  'NOT_FOUND',
  'AUTHORIZATION_REQUIRED',
]);

/** The status and the message an HTTP client may see for an error (generic for server-side failures). */
export function describeForClient(error: unknown): { status: number; code: string; message: string } {
  if (isCredentialError(error)) {
    const status = HTTP_STATUS_BY_CODE[error.code] ?? 500;
    if (CLIENT_VISIBLE_CODES.has(error.code)) {
      return { status, code: error.code.toLowerCase(), message: error.message };
    }
    if (error.code === 'PROVIDER_ERROR') {
      return {
        status,
        code: 'temporarily_unavailable',
        message: 'Google could not be reached; try again shortly.',
      };
    }
    if (error.code === 'STORAGE_UNAVAILABLE' || error.code === 'STORAGE_FORBIDDEN') {
      return {
        status,
        code: 'temporarily_unavailable',
        message: 'the service is temporarily unavailable; try again shortly',
      };
    }
    return { status, code: 'server_error', message: 'the server could not complete this request' };
  }
  return { status: 500, code: 'server_error', message: 'the server could not complete this request' };
}

/** An error as JSON or as a page, with the status its code maps to; never a stack or a cause. */
export function problemResponse(
  request: Request,
  error: unknown,
  init: { headers?: HeadersInit | undefined } = {},
): Response {
  const { status, code, message } = describeForClient(error);
  if (wantsJson(request)) return jsonResponse(status, { error: code, error_description: message }, init);
  return htmlResponse(
    status,
    status < 500 ? 'Authorization failed' : 'Something went wrong',
    [
      ['p', message],
      ['p', 'Start again from your MCP client or the sign-in link.'],
    ],
    init,
  );
}

/**
 * {@link problemResponse} for a failure a component decided to answer with: a server-side failure
 * (storage, provider, configuration, a bug) is logged once first (see `logFailure`).
 */
export function failureResponse(
  request: Request,
  error: unknown,
  context: FailureContext & { logger: Logger; headers?: HeadersInit },
): Response {
  const { logger, headers, ...where } = context;
  logFailure(logger, error, where);
  return problemResponse(request, error, { headers });
}

/** A 429 with `Retry-After`. */
export function tooManyRequests(request: Request, retryAfterSeconds: number): Response {
  const headers = { 'retry-after': String(retryAfterSeconds) };
  if (wantsJson(request) || request.method !== 'GET') {
    return jsonResponse(
      429,
      { error: 'too_many_requests', error_description: 'too many requests; try again later' },
      { headers },
    );
  }
  return htmlResponse(
    429,
    'Too many requests',
    [['p', 'Too many sign-in attempts from your address. Try again later.']],
    {
      headers,
    },
  );
}

/** Reads a request body as text, refusing more than `maxBytes` (default 64 KiB). */
export async function readBodyText(request: Request, maxBytes = 64 * 1024): Promise<string | undefined> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBytes) return undefined;
  if (request.body === null) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads an `application/x-www-form-urlencoded` or JSON body into string fields. */
export async function readFormFields(
  request: Request,
  maxBytes?: number,
): Promise<Record<string, string> | undefined> {
  const text = await readBodyText(request, maxBytes);
  if (text === undefined) return undefined;
  const type = request.headers.get('content-type') ?? '';
  if (type.includes('application/json')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
      const out: Record<string, string> = {};
      for (const [key, value] of Object.entries(parsed)) if (typeof value === 'string') out[key] = value;
      return out;
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}
