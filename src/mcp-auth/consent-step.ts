/**
 * The consent step of {@link McpAuthorizationServer}: after Google, a client the user has not
 * approved yet gets this server's consent page (in a sealed cookie of that browser, with an
 * anti-CSRF token, answered once); an approved one gets its code at once.
 *
 * @module
 */
import type { Clock } from '../clock.js';
import { type CookiePolicy, clearCookie, cookieName, readCookie, setCookie } from '../http/cookies.js';
import { htmlResponse, redirectResponse } from '../http/responses.js';
import type { Sealer } from '../internal/seal.js';
import type { Logger } from '../logger.js';
import { randomToken } from '../secrets.js';
import type { OAuth21SessionStore } from '../session/session-store.js';
import type { ClientRecord, ClientRegistry } from './clients.js';
import { type ConsentApprovals, consentPage } from './consent.js';

/** What /authorize asked for, carried through Google and consent in sealed cookies. */
export interface Transaction {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  state?: string;
  scopes: string[];
  resource: string;
}

interface ConsentCookie {
  /** Nonce (single use) and the id in the consent URL. */
  n: string;
  i: string;
  /** Expiry, epoch ms. */
  x: number;
  /** The user and their session generation. */
  u: string;
  g: string;
  t: Transaction;
}

const CONSENT_PURPOSE = 'mcp-consent';

/** What the consent step needs from its server. */
export interface ConsentStepOptions {
  sealer: Sealer;
  cookies: CookiePolicy;
  clock: Clock;
  logger: Logger;
  /** The absolute URL of the consent page. */
  consentUrl: string;
  /** How long a consent request stays answerable, ms. */
  transactionTtlMs: number;
  sessionStore: OAuth21SessionStore;
  approvals: ConsentApprovals;
  clients: ClientRegistry;
  /** The Google scopes the sign-in asks for (shown on the page). */
  googleScopes: readonly string[];
  resourceName: string;
  /** Issues the authorization code and redirects to the client. */
  issueCode(
    transaction: Transaction,
    userId: string,
    generation: string,
    headers: Headers,
    status?: number,
  ): Promise<Response>;
  /** The client's redirect URI with `params`, `state` and `iss`. */
  clientRedirect(transaction: Transaction, params: Record<string, string>): string;
}

/** A page of this server for a refusal (never a redirect to a client that may be an attacker's). */
export function errorPage(status: number, title: string, message: string, headers?: Headers): Response {
  return htmlResponse(status, title, [['p', message]], { headers });
}

/** See the module documentation. */
export class ConsentStep {
  readonly #o: ConsentStepOptions;

  constructor(options: ConsentStepOptions) {
    this.#o = options;
  }

  /**
   * After a Google sign-in as `userId` (session `generation`) for `transaction`: the code at once
   * when the user approved this client for these scopes before, else a redirect to the consent page.
   */
  async afterSignIn(
    transaction: Transaction,
    client: ClientRecord,
    userId: string,
    generation: string,
    headers: Headers,
  ): Promise<Response> {
    if (await this.#o.approvals.covers(userId, client.client_id, transaction.scopes)) {
      return this.#o.issueCode(transaction, userId, generation, headers);
    }
    const consent: ConsentCookie = {
      n: randomToken(),
      i: randomToken(12),
      x: this.#o.clock.now() + this.#o.transactionTtlMs,
      u: userId,
      g: generation,
      t: transaction,
    };
    headers.append(
      'set-cookie',
      setCookie(
        this.#consentCookieName(consent.i),
        await this.#o.sealer.seal(CONSENT_PURPOSE, consent),
        this.#o.transactionTtlMs,
        this.#o.cookies,
      ),
    );
    return redirectResponse(`${this.#o.consentUrl}?id=${consent.i}`, 303, { headers });
  }

  #consentCookieName(id: string): string {
    return cookieName(`mcpoc_consent_${id}`, this.#o.cookies);
  }

  async #openConsent(request: Request, id: string | null): Promise<ConsentCookie | Response> {
    // Stryker disable next-line ConditionalExpression: the null test narrows the type; a null id fails the pattern ("null") as well
    if (id === null || !/^[A-Za-z0-9_-]{16}$/.test(id)) {
      return errorPage(
        400,
        'Consent expired',
        'This consent request is incomplete. Start again from your MCP client.',
      );
    }
    const consent = await this.#o.sealer.open<ConsentCookie>(
      CONSENT_PURPOSE,
      readCookie(request, this.#consentCookieName(id)),
    );
    if (consent === undefined || consent.i !== id) {
      this.#o.logger.warn(
        {},
        'SECURITY: consent requested without this flow’s cookie (another browser, or a forged link); refused',
      );
      return errorPage(
        400,
        'Consent expired',
        'This consent request belongs to another browser, or it expired. Start again from your MCP client in this browser.',
      );
    }
    if (consent.x <= this.#o.clock.now()) {
      return errorPage(
        400,
        'Consent expired',
        'This consent request expired. Start again from your MCP client.',
      );
    }
    return consent;
  }

  /** GET consent: the page. Loading it again (prefetch, double click) renders the same form. */
  async form(request: Request): Promise<Response> {
    const consent = await this.#openConsent(request, new URL(request.url).searchParams.get('id'));
    if (consent instanceof Response) return consent;
    const client = await this.#o.clients.get(consent.t.clientId);
    if (!client)
      return errorPage(
        400,
        'Unknown client',
        'This MCP client’s registration expired. Start again from your MCP client.',
      );
    return consentPage({
      client,
      userId: consent.u,
      redirectUri: consent.t.redirectUri,
      mcpScopes: consent.t.scopes,
      googleScopes: this.#o.googleScopes,
      actionUrl: this.#o.consentUrl,
      consentId: consent.i,
      csrf: await this.#o.sealer.tag('consent-csrf', `${consent.i}.${consent.n}`),
      resourceName: this.#o.resourceName,
    });
  }

  /** POST consent: approve (code to the client) or deny (`access_denied` to the client). */
  async decision(request: Request): Promise<Response> {
    const form = Object.fromEntries(
      new URLSearchParams((await request.text().catch(() => '')).slice(0, 4096)),
    );
    const consent = await this.#openConsent(request, form.consent ?? null);
    if (consent instanceof Response) return consent;
    const { clientId } = consent.t;
    if (!(await this.#o.sealer.verifyTag('consent-csrf', `${consent.i}.${consent.n}`, form.csrf))) {
      this.#o.logger.warn(
        { clientId, userId: consent.u },
        'SECURITY: consent posted with a wrong anti-CSRF token; refused',
      );
      return errorPage(400, 'Consent refused', 'This form is not valid. Start again from your MCP client.');
    }
    const remaining = consent.x - this.#o.clock.now();
    if (!(await this.#o.sessionStore.recordSingleUse(consent.n, remaining + 60_000))) {
      return errorPage(
        400,
        'Already answered',
        'This consent request was already answered. Return to your MCP client.',
      );
    }
    const headers = new Headers({
      'set-cookie': clearCookie(this.#consentCookieName(consent.i), this.#o.cookies),
    });
    if (form.decision !== 'approve') {
      this.#o.logger.info({ clientId, userId: consent.u }, 'the user denied an MCP client');
      return redirectResponse(
        this.#o.clientRedirect(consent.t, {
          error: 'access_denied',
          error_description: 'the user denied the request',
        }),
        303,
        { headers },
      );
    }
    const session = await this.#o.sessionStore.getSession(consent.u);
    if (!session || session.generation !== consent.g) {
      return errorPage(
        400,
        'Signed out',
        'You signed out meanwhile. Start again from your MCP client.',
        headers,
      );
    }
    await this.#o.approvals.approve(consent.u, clientId, consent.t.scopes);
    this.#o.logger.info({ clientId, userId: consent.u }, 'the user approved an MCP client');
    return this.#o.issueCode(consent.t, consent.u, consent.g, headers, 303);
  }
}
