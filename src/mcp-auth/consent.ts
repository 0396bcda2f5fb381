/**
 * The consent step of the MCP authorization server: the page that names the client before any code
 * reaches it, and the approvals remembered per (user, client) so a user is asked once.
 *
 * @module
 */
import type { Clock } from '../clock.js';
import { escapeHtml, htmlResponse } from '../http/responses.js';
import { sha256 } from '../secrets.js';
import type { SessionBackend } from '../session/backend.js';
import type { ClientRecord } from './clients.js';

const NS = 'mcp-consent';

interface Approval {
  scopes: string[];
  approvedAt: number;
}

/** Approvals per (user, client), with the scopes approved. */
export class ConsentApprovals {
  readonly #backend: SessionBackend;
  readonly #clock: Clock;
  readonly #ttlMs: number;

  constructor(backend: SessionBackend, clock: Clock, ttlMs: number) {
    this.#backend = backend;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  #key(userId: string, clientId: string): string {
    return sha256(`${userId}\n${clientId}`);
  }

  /** Whether the user approved this client for (at least) these scopes and the approval is live. */
  async covers(userId: string, clientId: string, scopes: readonly string[]): Promise<boolean> {
    const approval = await this.#backend.get<Approval>(NS, this.#key(userId, clientId));
    return approval !== undefined && scopes.every((scope) => approval.scopes.includes(scope));
  }

  /** Remembers an approval (merging scopes approved before). */
  async approve(userId: string, clientId: string, scopes: readonly string[]): Promise<void> {
    const key = this.#key(userId, clientId);
    const previous = await this.#backend.get<Approval>(NS, key);
    const approval: Approval = {
      scopes: [...new Set(previous ? [...previous.scopes, ...scopes] : scopes)],
      approvedAt: this.#clock.now(),
    };
    await this.#backend.set(NS, key, approval, { ttlMs: this.#ttlMs });
  }

  /** Forgets every approval of a user for a client (for example when the user revokes it). */
  async forget(userId: string, clientId: string): Promise<void> {
    await this.#backend.delete(NS, this.#key(userId, clientId));
  }
}

/** Where a redirect URI sends the browser, for people: `host:port`, or the scheme for other schemes. */
export function redirectTarget(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.host : url.protocol;
}

/** The CSP `form-action` sources the consent page needs: itself and where approval redirects. */
function formActionSources(redirectUri: string): string[] {
  const url = new URL(redirectUri);
  return ["'self'", url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol];
}

/** What the consent page shows and posts. */
export interface ConsentPageInput {
  client: ClientRecord;
  userId: string;
  redirectUri: string;
  mcpScopes: readonly string[];
  googleScopes: readonly string[];
  actionUrl: string;
  consentId: string;
  csrf: string;
  resourceName: string;
}

/** The consent page: who is asking, where the browser will go, what it may do; Approve or Deny. */
export function consentPage(input: ConsentPageInput): Response {
  const name = input.client.client_name?.trim() || 'An unnamed MCP client';
  const firstSeen = new Date(input.client.firstSeenAt).toISOString().slice(0, 10);
  const scopes = input.mcpScopes.length > 0 ? input.mcpScopes.join(' ') : '(none beyond calling its tools)';
  const form = `<form method="post" action="${escapeHtml(input.actionUrl)}">
<input type="hidden" name="consent" value="${escapeHtml(input.consentId)}">
<input type="hidden" name="csrf" value="${escapeHtml(input.csrf)}">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`;
  const details = `<dl>
<dt>Client</dt><dd>${escapeHtml(name)}</dd>
<dt>Client id</dt><dd><code>${escapeHtml(input.client.client_id)}</code></dd>
<dt>After approval your browser goes to</dt><dd><strong>${escapeHtml(redirectTarget(input.redirectUri))}</strong></dd>
<dt>First seen by this server</dt><dd>${escapeHtml(firstSeen)}</dd>
<dt>MCP scopes requested</dt><dd>${escapeHtml(scopes)}</dd>
<dt>It will act as</dt><dd>${escapeHtml(input.userId)}, with this server’s Google access (${escapeHtml(input.googleScopes.join(' '))})</dd>
</dl>`;
  return htmlResponse(
    200,
    `Allow ${name} to use ${input.resourceName}?`,
    [
      ['p', `You are signed in as ${input.userId}.`],
      ['html', details],
      [
        'p',
        'Approve only if you just started this from your own MCP client and you recognise the destination above. A link someone sent you can ask for your account on their behalf.',
      ],
      ['html', form],
    ],
    { formAction: formActionSources(input.redirectUri) },
  );
}
