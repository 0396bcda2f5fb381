/**
 * The MCP session guard for Express: middleware for the MCP endpoint (after `requireBearerAuth`)
 * and the transport callbacks that bind and unbind sessions. The rules live in the web-standard core
 * (`mcp-oauth-credentials/http`).
 *
 * @module
 */
import {
  createMcpSessionGuard as createCoreGuard,
  type McpSessionGuardCore,
  type McpSessionGuardOptions,
} from '../http/mcp-session-guard.js';
import type { ExpressHandler, ExpressRequest } from './types.js';
import { sendWebResponse } from './web.js';

export type { McpSessionGuardOptions } from '../http/mcp-session-guard.js';

/** What {@link createMcpSessionGuard} returns. */
export interface McpSessionGuard {
  /**
   * Middleware for the MCP endpoint, after `requireBearerAuth`: a request carrying an
   * `Mcp-Session-Id` that is not bound to the authenticated user gets 404 (as the MCP spec asks for
   * unknown sessions), whoever it is bound to.
   */
  middleware: ExpressHandler;
  /**
   * The `onsessioninitialized` callback for the transport created for this (initialize) request: binds
   * the new session id to the request's authenticated user.
   */
  bindOnInitialize(req: Pick<ExpressRequest, 'auth'>): (sessionId: string) => Promise<void>;
  /** The `onsessionclosed` callback: forgets the binding. */
  unbind(sessionId: string): Promise<void>;
}

/** Builds the MCP session guard for Express (from options, or around a core guard already built). */
export function createMcpSessionGuard(
  options: McpSessionGuardOptions | { guard: McpSessionGuardCore },
): McpSessionGuard {
  const guard = 'guard' in options ? options.guard : createCoreGuard(options);
  return {
    middleware(req, res, next) {
      const header = req.headers['mcp-session-id'];
      const sessionId = Array.isArray(header) ? '' : header;
      guard.check(sessionId, req.auth).then(
        (refusal) => (refusal === undefined ? next() : sendWebResponse(res, refusal)),
        (error: unknown) => next(error),
      );
    },
    bindOnInitialize(req) {
      const auth = req.auth;
      return (sessionId) => guard.bind(sessionId, auth);
    },
    unbind: (sessionId) => guard.unbind(sessionId),
  };
}
