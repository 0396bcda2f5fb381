import type { Request, Response } from 'express';
import { CredentialError } from '../errors.js';

/** Marks a response as never cacheable and never leaking a referrer. */
export function setNoStore(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
}

/** True when the client asked for JSON (`Accept: application/json` or `?format=json`). */
export function wantsJson(req: Request): boolean {
  if ((req.query as Record<string, unknown>).format === 'json') return true;
  const accept = req.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

type Block = readonly ['p' | 'code' | 'link', string];

/** A small self-contained HTML page (no scripts, no external resources). */
export function renderPage(title: string, blocks: readonly Block[]): string {
  const body = blocks
    .map(([kind, text]) => {
      if (kind === 'code') return `<pre><code>${escapeHtml(text)}</code></pre>`;
      if (kind === 'link') return `<p><a href="${escapeHtml(text)}">Continue</a></p>`;
      return `<p>${escapeHtml(text)}</p>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;line-height:1.5}pre{background:#f4f4f4;padding:1rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
}

const STATUS: Record<string, number> = {
  INVALID_INPUT: 400,
  REAUTH_REQUIRED: 401,
  NOT_FOUND: 404,
  ACCESS_DENIED: 403,
  CONFLICT: 409,
  CORRUPT: 500,
  CONFIGURATION: 500,
  PROVIDER_ERROR: 502,
  STORAGE_UNAVAILABLE: 503,
};

/** Answers an error as JSON or HTML with a status from its code; never shows a stack or a cause. */
export function sendProblem(req: Request, res: Response, error: unknown): void {
  const known = error instanceof CredentialError ? error : undefined;
  const status = known ? (STATUS[known.code] ?? 500) : 500;
  const message = known && status < 500 ? known.message : 'the server could not complete this request';
  setNoStore(res);
  if (wantsJson(req)) {
    res
      .status(status)
      .json({ error: known?.code.toLowerCase() ?? 'server_error', error_description: message });
    return;
  }
  res
    .status(status)
    .type('html')
    .send(
      renderPage(status < 500 ? 'Authorization failed' : 'Something went wrong', [
        ['p', message],
        ['p', 'Start again from your MCP client or the sign-in link.'],
      ]),
    );
}
