/**
 * Express handlers for the browser side of the bearer mode: start, Google callback, revoke and
 * status, mounted in your own router. The behaviour lives in the web-standard core
 * (`createSignInHandlers`); these only translate.
 *
 * @module
 */
import { InvalidInputError } from '../errors.js';
import { problemResponse } from '../http/responses.js';
import {
  createSignInHandlers,
  type SignInHandlers,
  type SignInHandlersOptions,
} from '../http/sign-in-handlers.js';
import type { ExpressHandler, ExpressRequest } from './types.js';
import { expressHandler } from './web.js';

/**
 * Options of {@link createAuthHandlers}: those of the web-standard `createSignInHandlers`, or
 * `{ handlers }` built with it already (to share them with another adapter).
 */
export type AuthHandlersOptions = SignInHandlersOptions | { handlers: SignInHandlers };

/** The handlers {@link createAuthHandlers} returns. */
export interface AuthHandlers {
  /** `GET`: redirects to Google. Query: `login_hint?`, `return_to?` (must be allow-listed). Rate-limited per address. */
  startAuthorization: ExpressHandler;
  /** `GET`: Google's redirect back. Issues a bearer token; HTML, or JSON when asked. */
  oauthCallback: ExpressHandler;
  /** `POST`, after `requireBearerAuth`: revokes the caller's own credentials. */
  revoke: ExpressHandler;
  /** `GET`, after `requireBearerAuth`: the caller's scopes and expiry, no tokens. */
  status: ExpressHandler;
  /** `GET` at `connectUrl`: opens a connect link (incremental authorization) once and redirects to Google. */
  connect: ExpressHandler;
}

/** The verified user of a request that went through `requireBearerAuth`, or undefined. */
export function authenticatedUser(req: Pick<ExpressRequest, 'auth'>): string | undefined {
  const userId = req.auth?.extra?.userId;
  return typeof userId === 'string' ? userId : undefined;
}

/**
 * Builds the authorization handlers. Mount them in your own router:
 *
 * ```ts
 * const auth = createAuthHandlers({ manager, sessionStore, redirectUri, scopes, serverSecret });
 * app.get('/auth/start', auth.startAuthorization);
 * app.get('/oauth/callback', auth.oauthCallback);
 * const bearer = requireBearerAuth({ verifier: bearerVerifier(sessionStore) }); // bearerVerifier: /sdk-v1
 * app.post('/auth/revoke', bearer, auth.revoke);
 * app.get('/auth/status', bearer, auth.status);
 * ```
 */
export function createAuthHandlers(options: AuthHandlersOptions): AuthHandlers {
  const handlers = 'handlers' in options ? options.handlers : createSignInHandlers(options);
  const forUser = (handler: (request: globalThis.Request, user: { userId: string }) => Promise<Response>) =>
    expressHandler(async (request, _context, req) => {
      const userId = authenticatedUser(req);
      if (userId === undefined) {
        return problemResponse(
          request,
          new InvalidInputError('this needs a verified bearer token (mount requireBearerAuth first)'),
        );
      }
      return handler(request, { userId });
    });
  return {
    startAuthorization: expressHandler((request, context) => handlers.start(request, context)),
    oauthCallback: expressHandler((request, context) => handlers.callback(request, context)),
    revoke: forUser(handlers.revoke),
    status: forUser(handlers.status),
    connect: expressHandler((request, context) => handlers.connect(request, context)),
  };
}
