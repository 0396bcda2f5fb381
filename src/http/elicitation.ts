/**
 * MCP URL elicitation for {@link AuthorizationRequiredError}, independent of the SDK major: whether
 * a client can be asked to open a URL, the elicitation parameters, and {@link ElicitationCompletions},
 * which sends `notifications/elicitation/complete` to the MCP session that asked once the user has
 * granted access. The SDK adapters (`/sdk-v1`, `/sdk-v2`) wrap these in their own error classes.
 *
 * @module
 */
import { type AuthorizationRequiredError, isCredentialError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { ConnectedEvent } from './sign-in-handlers.js';

/** The parts of an MCP SDK `Server` (v1 `mcpServer.server`, v2 `Server`) used here. */
export interface ElicitingServer {
  /** What the connected client declared at initialisation (SDK `Server.getClientCapabilities`). */
  getClientCapabilities(): { elicitation?: { url?: object } & Record<string, unknown> } | undefined;
  /** A function that sends `notifications/elicitation/complete` for `elicitationId` (SDK method of that name). */
  createElicitationCompletionNotifier(elicitationId: string): () => Promise<void>;
  /** v2 only: which protocol revision the session speaks. */
  getNegotiatedProtocolVersion?(): string | undefined;
}

/** The `params` of a URL-mode elicitation (`elicitation/create`, or the -32042 error's data). */
export interface UrlElicitationParams {
  mode: 'url';
  message: string;
  url: string;
  elicitationId: string;
}

/**
 * Whether the client of `server` declared URL-mode elicitation (2025-11-25), and the session speaks
 * a revision where the server signals it with the -32042 error (not the 2026-07-28 revision, whose
 * input-required results this package does not produce yet).
 */
export function supportsUrlElicitation(server: ElicitingServer): boolean {
  const elicitation = server.getClientCapabilities()?.elicitation;
  if (elicitation === undefined || typeof elicitation.url !== 'object') return false;
  const version = server.getNegotiatedProtocolVersion?.();
  return version === undefined || version < '2026';
}

/** The elicitation for `error` when it is an {@link AuthorizationRequiredError} the client can be asked about. */
export function urlElicitationParams(
  error: unknown,
  server: ElicitingServer,
): UrlElicitationParams | undefined {
  if (!isCredentialError(error, 'AUTHORIZATION_REQUIRED') || !supportsUrlElicitation(server))
    return undefined;
  const required = error as AuthorizationRequiredError;
  return {
    mode: 'url',
    message: `${required.message}. Open the link to grant it in Google; the tool will work when you return.`,
    url: required.url,
    elicitationId: required.elicitationId,
  };
}

/**
 * The MCP sessions of this process, so the sign-in callback can tell the one that asked that the
 * user is done: `track` each session's server when it starts, `forget` it when it closes, and pass
 * `notify` as the sign-in handlers' `onConnected`. With several replicas, the callback reaches only
 * the replica it lands on: route `/oauth/callback` to the replica holding the MCP session (sticky
 * sessions), or clients retry on their own when the user comes back.
 */
export class ElicitationCompletions {
  readonly #servers = new Map<string, ElicitingServer>();
  readonly #logger: Logger;

  constructor(options: { logger?: Logger } = {}) {
    this.#logger = options.logger ?? silentLogger;
  }

  /** Notifies `server` when an elicitation started in MCP session `mcpSessionId` completes. */
  track(mcpSessionId: string, server: ElicitingServer): void {
    this.#servers.set(mcpSessionId, server);
  }

  /** Stops notifying for `mcpSessionId` (its MCP session closed). */
  forget(mcpSessionId: string): void {
    this.#servers.delete(mcpSessionId);
  }

  /** Sends the completion notification; resolves whether a session of this process received it. */
  notify = async (event: Pick<ConnectedEvent, 'mcpSessionId' | 'elicitationId'>): Promise<boolean> => {
    if (event.mcpSessionId === undefined) return false;
    const server = this.#servers.get(event.mcpSessionId);
    if (server === undefined || !supportsUrlElicitation(server)) return false;
    try {
      await server.createElicitationCompletionNotifier(event.elicitationId)();
      return true;
    } catch (error) {
      this.#logger.warn(
        { mcpSessionId: event.mcpSessionId, error: error instanceof Error ? error.name : 'unknown' },
        'could not send notifications/elicitation/complete',
      );
      return false;
    }
  };
}
