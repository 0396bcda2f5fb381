/**
 * {@link createMcpSessionGuard}: keeps MCP sessions to their users. A new session is bound to the
 * verified user of its initialize request (first binding wins); a request presenting an
 * `Mcp-Session-Id` that is not bound to its own verified user gets 404, as the MCP spec asks for
 * unknown sessions, whoever the session belongs to.
 *
 * @module
 */
import type { AuthInfo } from '../auth-info.js';
import { AccessDeniedError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { OAuth21SessionStore } from '../session/session-store.js';
import { jsonResponse } from './responses.js';

/** Options of {@link createMcpSessionGuard}. */
export interface McpSessionGuardOptions {
  sessionStore: OAuth21SessionStore;
  /** Refusals are logged at `warn` (user and client ids only). Default: silent. */
  logger?: Logger;
}

/** What {@link createMcpSessionGuard} returns. */
export interface McpSessionGuardCore {
  /**
   * Checks a request's `Mcp-Session-Id` against its verified token: resolves `undefined` to let it
   * through (no session id, or one bound to this user), or the 404 response to send.
   */
  check(mcpSessionId: string | null | undefined, auth: AuthInfo | undefined): Promise<Response | undefined>;
  /** Binds a new MCP session to the verified user of its initialize request. */
  bind(mcpSessionId: string, auth: AuthInfo | undefined): Promise<void>;
  /** Forgets a binding (the transport's session closed). */
  unbind(mcpSessionId: string): Promise<void>;
}

const SESSION_NOT_FOUND = { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null };

function userOf(auth: AuthInfo | undefined): string | undefined {
  const userId = auth?.extra?.userId;
  return typeof userId === 'string' ? userId : undefined;
}

/** Builds the guard. */
export function createMcpSessionGuard(options: McpSessionGuardOptions): McpSessionGuardCore {
  const logger = options.logger ?? silentLogger;
  return {
    async check(mcpSessionId, auth) {
      if (mcpSessionId === undefined || mcpSessionId === null) return undefined;
      const userId = userOf(auth);
      const refuse = (reason: string) => {
        logger.warn(
          { userId, clientId: auth?.clientId, reason },
          'SECURITY: refused an MCP request for a session that is not the caller’s',
        );
        return jsonResponse(404, SESSION_NOT_FOUND);
      };
      if (userId === undefined) return refuse('unauthenticated');
      const boundUser = await options.sessionStore.getUserByMcpSession(mcpSessionId, auth);
      if (boundUser === userId) return undefined;
      return refuse(boundUser === undefined ? 'unbound-session' : 'session-bound-to-other-user');
    },
    async bind(mcpSessionId, auth) {
      const userId = userOf(auth);
      if (userId === undefined)
        throw new AccessDeniedError('cannot bind an MCP session without a verified user', {
          reason: 'no-verified-user',
        });
      await options.sessionStore.bindMcpSession(mcpSessionId, userId);
    },
    async unbind(mcpSessionId) {
      await options.sessionStore.unbindMcpSession(mcpSessionId);
    },
  };
}
