/**
 * {@link LocalSignIn}: Google sign-in for a server that runs on the user's own machine (an MCP
 * server over stdio), as RFC 8252 describes for native apps: a one-shot callback listener on
 * `127.0.0.1` with an ephemeral port, PKCE (S256) and `state`, the user sent to Google by URL
 * elicitation or the system browser (the URL is also printed to stderr, never stdout, which carries
 * the MCP protocol), a timeout, and the listener closed afterwards. Works with Google "Desktop app"
 * OAuth clients (their secret is not confidential; PKCE protects the code).
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigurationError, InvalidInputError, ProviderError } from '../errors.js';
import { escapeHtml } from '../http/responses.js';
import { isMissingPackage } from '../internal/optional-peer.js';
import { type Logger, silentLogger } from '../logger.js';
import type { AuthorizationResult } from '../refresh/authorization.js';
import type { CredentialManager } from '../refresh/manager.js';
import { createPkcePair, randomToken } from '../secrets.js';

/** The default time a sign-in waits for the browser to come back, ms: 5 minutes. */
export const DEFAULT_LOCAL_SIGN_IN_TIMEOUT_MS = 5 * 60 * 1000;

/** Options of {@link LocalSignIn}. */
export interface LocalSignInOptions {
  /** Exchanges the code and saves the credentials (in its store: the file store, for example). */
  manager: CredentialManager;
  /** Scopes every sign-in asks for. `openid` and `email` are always added. Default: none more. */
  scopes?: readonly string[];
  /**
   * The listener's port. Default 0: an ephemeral port, which Google accepts for Desktop app clients
   * (any loopback port). Fix it only for a provider that wants one registered redirect URI.
   */
  port?: number;
  /** The callback path. Default `/oauth2callback` (google_workspace_mcp's). */
  callbackPath?: string;
  /** How long a sign-in waits for the browser, ms. Default {@link DEFAULT_LOCAL_SIGN_IN_TIMEOUT_MS}. */
  timeoutMs?: number;
  /**
   * How to open the URL when no MCP client does: `true` (default) opens the system browser with the
   * `open` package (an optional peer: without it, or without a browser, the URL is only printed);
   * `false` only prints it; a function does it your way.
   */
  openBrowser?: boolean | ((url: string) => Promise<void>);
  /** Where the URL and short notices are printed. Default: `process.stderr`. Never stdout. */
  output?: {
    /** Writes a line for the user (the sign-in link). */
    write(text: string): unknown;
  };
  /** Default: silent. */
  logger?: Logger;
}

/** What a sign-in asks for. */
export interface LocalSignInRequest {
  /** Scopes beyond the configured ones (an incremental authorization asks only for the missing ones). */
  scopes?: readonly string[];
  /** Pre-fills Google's account chooser. */
  loginHint?: string;
  /** Only this user (email) may sign in. */
  expectedUser?: string;
  /** Only this Google account (`sub`) may sign in. */
  expectedSubject?: string;
}

/** A sign-in in progress: its URL, and the promise of its outcome. */
export interface PendingLocalSignIn {
  /** Google's authorization URL, for the user's browser. */
  readonly url: string;
  /** A fresh id, for MCP URL elicitation. */
  readonly elicitationId: string;
  /** Resolves when the browser came back and the credentials are saved; rejects on refusal or timeout. */
  readonly completion: Promise<AuthorizationResult>;
  /** Stops waiting: closes the listener; `completion` rejects. */
  cancel(): void;
}

/** See the module documentation. */
export class LocalSignIn {
  readonly #options: LocalSignInOptions;
  readonly #logger: Logger;
  #pending: PendingLocalSignIn | undefined;

  constructor(options: LocalSignInOptions) {
    if (!options?.manager) throw new ConfigurationError('LocalSignIn needs a manager');
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65_535)
      throw new ConfigurationError('port must be 0 to 65535');
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  /** The sign-in waiting for its browser, if any. */
  get pending(): PendingLocalSignIn | undefined {
    return this.#pending;
  }

  /**
   * Starts a sign-in: the listener is up and the URL ready when this resolves; nothing is opened or
   * printed (see {@link signIn} for that). A sign-in still pending is cancelled first.
   *
   * @throws ConfigurationError when the fixed `port` is taken.
   */
  async begin(request: LocalSignInRequest = {}): Promise<PendingLocalSignIn> {
    this.#pending?.cancel();
    const path = this.#options.callbackPath ?? '/oauth2callback';
    const pkce = createPkcePair();
    const state = randomToken();
    const server = createServer();
    const port = this.#options.port ?? 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new ConfigurationError(
                `port ${port} on 127.0.0.1 is in use: another sign-in or program holds it`,
                {
                  hint: 'use port 0 (an ephemeral port) unless your OAuth client needs a fixed one',
                },
              )
            : error,
        ),
      );
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
    const scopes = [
      ...new Set(['openid', 'email', ...(this.#options.scopes ?? []), ...(request.scopes ?? [])]),
    ];
    const url = this.#options.manager.createAuthorizationUrl({
      state,
      codeChallenge: pkce.codeChallenge,
      scopes,
      redirectUri,
      ...(request.loginHint === undefined ? {} : { loginHint: request.loginHint }),
    });
    let settle: { resolve(result: AuthorizationResult): void; reject(error: unknown): void };
    const completion = new Promise<AuthorizationResult>((resolve, reject) => {
      settle = { resolve, reject };
    });
    completion.catch(() => {}); // the caller may never await it (a declined elicitation)
    let finished = false;
    const finish = (outcome: { result: AuthorizationResult } | { error: unknown }) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      server.closeAllConnections?.();
      server.close();
      if (this.#pending === pending) this.#pending = undefined;
      if ('result' in outcome) settle.resolve(outcome.result);
      else settle.reject(outcome.error);
    };
    const timeoutMs = this.#options.timeoutMs ?? DEFAULT_LOCAL_SIGN_IN_TIMEOUT_MS;
    const timer = setTimeout(
      () =>
        finish({
          error: new InvalidInputError(
            `the Google sign-in was not completed within ${Math.round(timeoutMs / 1000)} s`,
          ),
        }),
      timeoutMs,
    );
    timer.unref();
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void this.#answer(req, res, {
        path,
        state,
        verifier: pkce.codeVerifier,
        redirectUri,
        scopes,
        request,
      }).then((outcome) => {
        if (outcome !== undefined) finish(outcome);
      });
    });
    const pending: PendingLocalSignIn = {
      url,
      elicitationId: randomToken(16),
      completion,
      cancel: () => finish({ error: new InvalidInputError('the sign-in was cancelled') }),
    };
    this.#pending = pending;
    return pending;
  }

  /**
   * Starts a sign-in, opens the browser (or not, see `openBrowser`), prints the URL to stderr, and
   * resolves when the credentials are saved.
   *
   * @throws InvalidInputError on timeout or when Google refused; AccessDeniedError for another account.
   */
  async signIn(request: LocalSignInRequest = {}): Promise<AuthorizationResult> {
    const pending = await this.begin(request);
    await this.announce(pending);
    return pending.completion;
  }

  /** Prints the URL to `output` and opens the browser as configured; never throws. */
  async announce(pending: PendingLocalSignIn): Promise<void> {
    const output = this.#options.output ?? process.stderr;
    output.write(`\nSign in with Google to continue: ${pending.url}\n`);
    const opener = this.#options.openBrowser ?? true;
    if (opener === false) return;
    try {
      if (typeof opener === 'function') await opener(pending.url);
      else await openWithSystemBrowser(pending.url);
    } catch (error) {
      this.#logger.info(
        { error: (error as Error)?.name },
        'could not open a browser; the sign-in URL was printed',
      );
      output.write('(No browser could be opened here: open the link above yourself.)\n');
    }
  }

  async #answer(
    req: IncomingMessage,
    res: ServerResponse,
    flow: {
      path: string;
      state: string;
      verifier: string;
      redirectUri: string;
      scopes: string[];
      request: LocalSignInRequest;
    },
  ): Promise<{ result: AuthorizationResult } | { error: unknown } | undefined> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' || url.pathname !== flow.path || url.searchParams.get('state') !== flow.state) {
      // Not this flow's callback (a probe, a favicon, a forged request): nothing happens.
      page(res, 404, 'Not found', 'This address only answers the Google sign-in of your MCP server.');
      return undefined;
    }
    const refusal = url.searchParams.get('error');
    if (refusal !== null) {
      page(res, 400, 'Sign-in not completed', 'Google did not grant access. You can close this window.');
      return { error: new InvalidInputError(`Google did not authorize (${refusal.slice(0, 64)})`) };
    }
    const code = url.searchParams.get('code');
    if (!code) {
      page(res, 400, 'Sign-in not completed', 'The callback carried no code.');
      return { error: new InvalidInputError('the Google callback carried no code') };
    }
    try {
      const result = await this.#options.manager.completeAuthorization({
        code,
        codeVerifier: flow.verifier,
        redirectUri: flow.redirectUri,
        requestedScopes: flow.scopes,
        ...(flow.request.expectedUser === undefined ? {} : { expectedUser: flow.request.expectedUser }),
        ...(flow.request.expectedSubject === undefined
          ? {}
          : { expectedSubject: flow.request.expectedSubject }),
      });
      page(
        res,
        200,
        'Signed in',
        `Signed in as ${result.userId}. You can close this window and return to your MCP client.`,
      );
      return { result };
    } catch (error) {
      const provider = error instanceof ProviderError;
      page(
        res,
        provider ? 502 : 403,
        'Sign-in not completed',
        provider
          ? 'Google could not be reached; try again.'
          : 'This account may not be used here. You can close this window.',
      );
      return { error };
    }
  }
}

function page(res: ServerResponse, status: number, title: string, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
  });
  res.end(
    `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title><p>${escapeHtml(text)}</p>`,
  );
}

/** Opens `url` with the `open` package (optional peer); rejects when it or a browser is missing. */
async function openWithSystemBrowser(url: string): Promise<void> {
  let open: (
    target: string,
    options?: { wait?: boolean },
  ) => Promise<{ once(event: string, listener: (error: Error) => void): unknown }>;
  try {
    ({ default: open } = (await import('open')) as { default: typeof open });
  } catch (error) {
    if (isMissingPackage(error, 'open'))
      throw new ConfigurationError('the optional peer dependency open is not installed');
    throw error;
  }
  const child = await open(url, { wait: false });
  // A missing opener (no xdg-open on a headless machine) fails after spawning: wait a moment for it.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, 500);
    timer.unref();
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
