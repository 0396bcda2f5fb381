/**
 * {@link GoogleSignIn}: the Google leg shared by both sign-in modes. The pending flow (PKCE verifier,
 * state, whatever the caller needs afterwards) lives in a sealed, short-lived, HttpOnly cookie in the
 * browser that started it, so starting a sign-in writes nothing on the server (a flood cannot evict
 * anyone's pending sign-in) and the Google callback completes only in that browser. The callback
 * records the flow's nonce once, so it cannot be replayed.
 *
 * @module
 */
import type { Clock } from '../clock.js';
import { InvalidInputError } from '../errors.js';
import type { Sealer } from '../internal/seal.js';
import type { Logger } from '../logger.js';
import type { AuthorizationResult, SignInPolicy } from '../refresh/authorization.js';
import type { CredentialManager } from '../refresh/manager.js';
import { createPkcePair, randomToken, sha256 } from '../secrets.js';
import type { OAuth21SessionStore } from '../session/session-store.js';
import { normaliseUserId } from '../user-id.js';
import { type CookiePolicy, clearCookie, cookieName, readCookie, setCookie } from './cookies.js';
import { failureResponse, problemResponse, redirectResponse } from './responses.js';

/** Options of {@link GoogleSignIn}. */
export interface GoogleSignInOptions {
  manager: CredentialManager;
  sessionStore: OAuth21SessionStore;
  sealer: Sealer;
  /** The Google redirect URI (registered with Google) where the callback handler is mounted. */
  callbackUrl: string;
  /** Scopes to request; `openid` and `email` are always added. */
  scopes: readonly string[];
  /** Lifetime of a pending flow (cookie and sealed expiry), milliseconds. */
  flowTtlMs: number;
  cookies: CookiePolicy;
  /** Base of the flow cookie's name; a short hash of the state is appended so parallel flows coexist. */
  cookieBase: string;
  /** Who may sign in. Default (also when undefined): anyone with a verified email. */
  policy?: SignInPolicy | undefined;
  /** Refuse a sign-in with another account than the login hint named. */
  requireLoginHintMatch?: boolean;
  clock: Clock;
  logger: Logger;
}

/** How a Google callback ended. */
export type SignInOutcome<T> =
  | {
      kind: 'signed-in';
      result: AuthorizationResult;
      payload: T;
      /** Clears the flow cookie; add it to the response. */
      setCookie: string;
    }
  | {
      /** The user (or Google) declined; `error` is Google's error code, truncated. */
      kind: 'declined';
      error: string;
      payload: T;
      setCookie: string;
    }
  | { kind: 'response'; response: Response };

interface FlowCookie<T> {
  /** Nonce: recorded once when the callback consumes the flow. */
  n: string;
  /** The state sent to Google. */
  s: string;
  /** PKCE verifier. */
  v: string;
  /** Expiry, epoch ms. */
  x: number;
  /** Login hint given to Google. */
  h?: string;
  /** 1 when Google was already asked for consent in this flow (no second round). */
  c?: 1;
  /** Scopes of this flow, when not the default ones (an incremental authorization). */
  o?: string[];
  /** The only user (email) this flow may sign in. */
  u?: string;
  /** The only Google account (`sub`) this flow may sign in. */
  g?: string;
  /** The caller's payload. */
  p: T;
}

const FLOW_PURPOSE = 'google-sign-in-flow';

/** How {@link GoogleSignIn.start} starts a flow. */
export interface FlowOptions {
  loginHint?: string;
  prompt?: string;
  /** Set on the second round, after Google granted no refresh token: never a third. */
  consentAsked?: boolean;
  /** Scopes of this flow instead of the default ones (`openid` and `email` are added). */
  scopes?: readonly string[];
  /** The callback accepts only this user (email). */
  expectedUser?: string;
  /** The callback accepts only this Google account (`sub`): no account substitution. */
  expectedSubject?: string;
}

/** See the module documentation. */
export class GoogleSignIn {
  readonly #options: GoogleSignInOptions;
  readonly #scopes: string[];

  constructor(options: GoogleSignInOptions) {
    this.#options = options;
    this.#scopes = [...new Set(['openid', 'email', ...options.scopes])];
  }

  /** The scopes requested from Google. */
  get scopes(): readonly string[] {
    return this.#scopes;
  }

  #cookieName(state: string): string {
    return cookieName(`${this.#options.cookieBase}_${sha256(state).slice(0, 12)}`, this.#options.cookies);
  }

  /** A redirect to Google that starts a flow carrying `payload`, with its sealed cookie. */
  async start<T>(payload: T, options: FlowOptions = {}): Promise<Response> {
    const pkce = createPkcePair();
    const state = randomToken();
    const flow: FlowCookie<T> = {
      n: randomToken(),
      s: state,
      v: pkce.codeVerifier,
      x: this.#options.clock.now() + this.#options.flowTtlMs,
      p: payload,
      // Stryker disable next-line ConditionalExpression: `{ h: undefined }` equals `{}` once sealed (JSON drops it); the other variant is killed by the test of requireLoginHintMatch
      ...(options.loginHint === undefined ? {} : { h: options.loginHint }),
      ...(options.consentAsked ? { c: 1 as const } : {}),
      ...(options.scopes === undefined ? {} : { o: [...new Set(['openid', 'email', ...options.scopes])] }),
      // Stryker disable next-line ConditionalExpression: `{ u: undefined }` equals `{}` once sealed (JSON drops it); the other variant is killed by the test of the expected user
      ...(options.expectedUser === undefined ? {} : { u: options.expectedUser }),
      // Stryker disable next-line ConditionalExpression: `{ g: undefined }` equals `{}` once sealed (JSON drops it); the other variant is killed by the test of the expected account
      ...(options.expectedSubject === undefined ? {} : { g: options.expectedSubject }),
    };
    const sealed = await this.#options.sealer.seal(FLOW_PURPOSE, flow);
    const location = this.#options.manager.createAuthorizationUrl({
      state,
      codeChallenge: pkce.codeChallenge,
      scopes: flow.o ?? this.#scopes,
      redirectUri: this.#options.callbackUrl,
      // Stryker disable next-line ConditionalExpression: createAuthorizationUrl treats an undefined option as absent; the other variant is killed by the test of the login hint
      ...(options.loginHint === undefined ? {} : { loginHint: options.loginHint }),
      // Stryker disable next-line ConditionalExpression: createAuthorizationUrl treats an undefined option as absent; the other variant is killed by the test of prompt
      ...(options.prompt === undefined ? {} : { prompt: options.prompt }),
    });
    return redirectResponse(location, 302, {
      headers: {
        'set-cookie': setCookie(
          this.#cookieName(state),
          sealed,
          this.#options.flowTtlMs,
          this.#options.cookies,
        ),
      },
    });
  }

  /**
   * Completes a flow at the Google callback: the state must match the sealed cookie of this browser,
   * unexpired and unused; then the code is exchanged and the user identified (see
   * `CredentialManager.completeAuthorization`). When Google granted no refresh token and none is on
   * file for this account, the browser is sent back to Google once with `prompt=consent` (decided
   * here, after the callback, so starting a sign-in reveals nothing about who has one on file).
   */
  async finish<T>(request: Request): Promise<SignInOutcome<T>> {
    const { clock, logger } = this.#options;
    const query = new URL(request.url).searchParams;
    const state = query.get('state');
    if (state === null || state.length < 16 || state.length > 256) {
      return this.#refuse(request, 'the sign-in link is incomplete; start again');
    }
    const name = this.#cookieName(state);
    const flow = await this.#options.sealer.open<FlowCookie<T>>(FLOW_PURPOSE, readCookie(request, name));
    const clear = clearCookie(name, this.#options.cookies);
    if (flow === undefined || flow.s !== state) {
      logger.warn(
        {},
        'SECURITY: Google callback without this flow’s cookie (another browser, or a forged link); refused',
      );
      return this.#refuse(
        request,
        'this sign-in was started in another browser, or its cookie expired; start again from this browser',
        clear,
      );
    }
    const now = clock.now();
    if (flow.x <= now) return this.#refuse(request, 'this sign-in expired; start again', clear);
    if (!(await this.#options.sessionStore.recordSingleUse(flow.n, flow.x - now + 60_000))) {
      logger.warn({}, 'SECURITY: a Google callback was replayed; refused');
      return this.#refuse(request, 'this sign-in link was already used; start again', clear);
    }
    const providerError = query.get('error');
    if (providerError !== null) {
      return { kind: 'declined', error: providerError.slice(0, 64), payload: flow.p, setCookie: clear };
    }
    const code = query.get('code');
    if (code === null || code === '')
      return this.#refuse(request, 'the callback has no code; start again', clear);
    let result: AuthorizationResult;
    try {
      result = await this.#options.manager.completeAuthorization({
        code,
        codeVerifier: flow.v,
        redirectUri: this.#options.callbackUrl,
        requestedScopes: flow.o ?? this.#scopes,
        policy: this.#options.policy,
        ...(this.#options.requireLoginHintMatch && flow.h !== undefined ? { expectedUser: flow.h } : {}),
        ...(flow.u === undefined ? {} : { expectedUser: flow.u }),
        expectedSubject: flow.g,
      });
    } catch (error) {
      const headers = new Headers({ 'set-cookie': clear });
      return {
        kind: 'response',
        response: failureResponse(request, error, {
          logger,
          component: 'sign-in',
          operation: 'callback',
          headers,
        }),
      };
    }
    if (!result.hasRefreshToken && flow.c === undefined) {
      const again = await this.start(flow.p, {
        loginHint: result.userId,
        prompt: 'consent',
        consentAsked: true,
        // Stryker disable next-line ConditionalExpression: start treats an undefined option as absent; the other variant is killed by the test of the second round
        ...(flow.o === undefined ? {} : { scopes: flow.o }),
        // Stryker disable next-line ConditionalExpression: start treats an undefined option as absent; the other variant is killed by the test of the second round
        ...(flow.u === undefined ? {} : { expectedUser: flow.u }),
        // Stryker disable next-line ConditionalExpression: start treats an undefined option as absent; the other variant is killed by the test of the second round
        ...(flow.g === undefined ? {} : { expectedSubject: flow.g }),
      });
      again.headers.append('set-cookie', clear);
      return { kind: 'response', response: again };
    }
    return { kind: 'signed-in', result, payload: flow.p, setCookie: clear };
  }

  #refuse(request: Request, message: string, setCookieHeader?: string): SignInOutcome<never> {
    const headers = new Headers();
    if (setCookieHeader !== undefined) headers.set('set-cookie', setCookieHeader);
    return {
      kind: 'response',
      response: problemResponse(request, new InvalidInputError(message), { headers }),
    };
  }
}

/** A login hint from a query parameter: empty means none; otherwise a valid email. */
export function loginHintFrom(raw: string | null): string | undefined {
  if (raw === null || raw === '') return undefined;
  return normaliseUserId(raw);
}
