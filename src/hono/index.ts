/**
 * `mcp-oauth-credentials/hono`: the HTTP core mounted in Hono 4 (and any host that hands handlers
 * the web-standard `Request`): the request is `c.req.raw`, the answer the core's `Response`. Nothing
 * here imports Hono; the context is typed structurally.
 *
 * ```ts
 * const signIn = createSignInHandlers({ ... });           // mcp-oauth-credentials/http
 * app.get('/auth/start', honoHandler(signIn.start));
 * app.get('/oauth/callback', honoHandler(signIn.callback));
 * app.use('*', honoMiddleware((request, context) => authServer.handle(request, context)));
 * ```
 *
 * @packageDocumentation
 */
import type { AuthInfo } from '../auth-info.js';
import { createHealthHandler, type HealthHandlerOptions } from '../http/health.js';
import type { McpSessionGuardCore } from '../http/mcp-session-guard.js';
import type { RequestContext } from '../http/sign-in-handlers.js';

/** The parts of a Hono `Context` the adapter uses. */
export interface HonoContext {
  req: { raw: Request };
  /** `@hono/node-server` puts Node's request here (`env.incoming`), with the client's address. */
  env?: unknown;
  /** A request-scoped variable (`c.get`). */
  get(key: string): unknown;
  /** Sets a request-scoped variable (`c.set`). */
  set(key: string, value: unknown): void;
}

/** Hono's `next`. */
export type HonoNext = () => Promise<void>;

/** The client's address: `@hono/node-server`'s socket address, when there is one. */
export function honoClientAddress(c: HonoContext): string | undefined {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress;
}

function contextOf(c: HonoContext): RequestContext {
  const clientAddress = honoClientAddress(c);
  return clientAddress === undefined ? {} : { clientAddress };
}

/** A Hono handler around a web-standard one. */
export function honoHandler(
  handler: (request: Request, context: RequestContext) => Promise<Response>,
): (c: HonoContext) => Promise<Response> {
  return (c) => handler(c.req.raw, contextOf(c));
}

/**
 * A Hono middleware around a web-standard handler that may decline (resolve `undefined`), such as
 * `McpAuthorizationServer.handle`: its answer, or the next handler's.
 */
export function honoMiddleware(
  handler: (request: Request, context: RequestContext) => Promise<Response | undefined>,
): (c: HonoContext, next: HonoNext) => Promise<Response | undefined> {
  return async (c, next) => {
    const response = await handler(c.req.raw, contextOf(c));
    if (response !== undefined) return response;
    await next();
    return undefined;
  };
}

/** The context variable the bearer middleware stores the verified token under. */
export const AUTH_INFO_KEY = 'authInfo';

/**
 * Bearer authentication from a web-standard gate (the SDK v2 `requireBearerAuth({ verifier })` from
 * `@modelcontextprotocol/server`): the challenge `Response`, or the verified `AuthInfo` stored as
 * `c.get('authInfo')` for the next handlers.
 */
export function honoBearerAuth(
  gate: (request: Request) => Promise<AuthInfo | Response>,
): (c: HonoContext, next: HonoNext) => Promise<Response | undefined> {
  return async (c, next) => {
    const result = await gate(c.req.raw);
    if (result instanceof Response) return result;
    c.set(AUTH_INFO_KEY, result);
    await next();
    return undefined;
  };
}

/**
 * The MCP session guard as Hono middleware, after `honoBearerAuth`: a request whose `Mcp-Session-Id`
 * is not bound to its verified user gets 404.
 */
export function honoSessionGuard(
  guard: McpSessionGuardCore,
): (c: HonoContext, next: HonoNext) => Promise<Response | undefined> {
  return async (c, next) => {
    const refusal = await guard.check(
      c.req.raw.headers.get('mcp-session-id'),
      c.get(AUTH_INFO_KEY) as AuthInfo | undefined,
    );
    if (refusal !== undefined) return refusal;
    await next();
    return undefined;
  };
}

/**
 * A Hono handler answering `checkHealth` as JSON (200 `ok`/`degraded`, 503 `down`), reports reused
 * for `cacheMs`: `app.get('/healthz', honoHealthCheck({ store, sessions: sessionStore, provider: manager.keysUrl }))`.
 */
export function honoHealthCheck(options: HealthHandlerOptions): (c: HonoContext) => Promise<Response> {
  return honoHandler(createHealthHandler(options));
}
