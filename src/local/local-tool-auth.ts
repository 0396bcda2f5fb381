/**
 * {@link createLocalToolAuth}: the tool helper of a single-user server on the user's machine (stdio):
 * who the user is (the one account signed in), and, when a tool needs a scope the grant lacks or
 * nobody has signed in yet, a {@link LocalSignIn} for exactly what is missing. Clients with URL
 * elicitation get an {@link AuthorizationRequiredError} (the SDK adapters turn it into -32042) and a
 * `notifications/elicitation/complete` when the browser comes back; for the others the browser is
 * opened (and the URL printed to stderr) and the tool call waits for the sign-in.
 *
 * @module
 */
import { type StoredCredentials, subjectOf } from '../credentials.js';
import { AuthorizationRequiredError, ConfigurationError, isCredentialError } from '../errors.js';
import { type ElicitingServer, supportsUrlElicitation } from '../http/elicitation.js';
import { ToolUser, type ToolUserContext } from '../http/tool-auth.js';
import { missingScopes } from '../internal/scopes.js';
import { type Logger, silentLogger } from '../logger.js';
import type { CredentialManager } from '../refresh/manager.js';
import type { CredentialStore } from '../stores/types.js';
import { normaliseUserId } from '../user-id.js';
import type { LocalSignIn, PendingLocalSignIn } from './local-sign-in.js';

/** Options of {@link createLocalToolAuth}. */
export interface LocalToolAuthOptions {
  manager: CredentialManager;
  /** The manager's store: read to find who is signed in. */
  store: CredentialStore;
  signIn: LocalSignIn;
  /**
   * The user, when known (google_workspace_mcp's `USER_GOOGLE_EMAIL`). Default: the one account in
   * the store; none yet means a sign-in; several is a `ConfigurationError` (name one).
   */
  userId?: string;
  /** Default: silent. */
  logger?: Logger;
}

/** What a tool asks of {@link LocalToolAuth.forRequest}. */
export interface LocalToolRequest {
  /** Google scopes the tool needs. */
  scopes?: readonly string[];
  /** The MCP SDK server of this connection (`mcpServer.server`): decides between elicitation and the browser. */
  server?: ElicitingServer;
}

/** What {@link createLocalToolAuth} returns. */
export interface LocalToolAuth {
  /**
   * The signed-in user's context, signing in first when needed (see the module documentation).
   *
   * @throws AuthorizationRequiredError (clients with URL elicitation); InvalidInputError when the
   *   sign-in timed out or was refused; AccessDeniedError for another Google account.
   */
  forRequest(request?: LocalToolRequest): Promise<ToolUserContext>;
  /** Who is signed in, if anyone. */
  currentUser(): Promise<string | undefined>;
}

/** Builds the local tool helper. */
export function createLocalToolAuth(options: LocalToolAuthOptions): LocalToolAuth {
  const logger = options.logger ?? silentLogger;
  let known = options.userId === undefined ? undefined : normaliseUserId(options.userId);

  const currentUser = async (): Promise<string | undefined> => {
    if (known !== undefined) return known;
    const users: string[] = [];
    for await (const userId of options.store.list()) {
      users.push(userId);
      if (users.length > 1) {
        throw new ConfigurationError('several Google accounts are stored: name the user (userId)', {
          hint: 'set USER_GOOGLE_EMAIL, or pass userId',
        });
      }
    }
    known = users[0];
    return known;
  };

  const credentialsOf = async (userId: string | undefined): Promise<StoredCredentials | undefined> => {
    if (userId === undefined) return undefined;
    try {
      return await options.manager.getValidCredentials(userId);
    } catch (error) {
      if (isCredentialError(error, 'NOT_FOUND') || isCredentialError(error, 'REAUTH_REQUIRED'))
        return undefined;
      throw error;
    }
  };

  /** Signs in for `scopes`: by elicitation when the client can, else by the browser, waiting. */
  const signInFor = async (
    userId: string | undefined,
    credentials: StoredCredentials | undefined,
    scopes: readonly string[],
    server: ElicitingServer | undefined,
  ): Promise<string> => {
    const subject = credentials === undefined ? undefined : subjectOf(credentials);
    const pending: PendingLocalSignIn = await options.signIn.begin({
      scopes,
      ...(userId === undefined ? {} : { loginHint: userId, expectedUser: userId }),
      ...(subject === undefined ? {} : { expectedSubject: subject }),
    });
    if (server !== undefined && supportsUrlElicitation(server)) {
      pending.completion.then(
        async (result) => {
          known = result.userId;
          await server
            .createElicitationCompletionNotifier(pending.elicitationId)()
            .catch(() => {});
        },
        (error: unknown) => logger.info({ error: (error as Error)?.message }, 'local sign-in not completed'),
      );
      throw new AuthorizationRequiredError(
        credentials === undefined
          ? 'sign in with Google to use this tool'
          : `this tool needs more Google access: ${scopes.join(' ')}`,
        {
          url: pending.url,
          elicitationId: pending.elicitationId,
          scopes,
          ...(userId === undefined ? {} : { userId }),
        },
      );
    }
    await options.signIn.announce(pending);
    const result = await pending.completion;
    known = result.userId;
    return result.userId;
  };

  return {
    currentUser,
    async forRequest(request = {}) {
      const required = request.scopes ?? [];
      let userId = await currentUser();
      let credentials = await credentialsOf(userId);
      const missing =
        credentials === undefined
          ? ['openid', 'email', ...required]
          : missingScopes(credentials.scopes, required);
      if (missing.length > 0) {
        userId = await signInFor(userId, credentials, missing, request.server);
        credentials = await options.manager.getValidCredentials(userId);
      }
      return new ToolUser(options.manager, userId!, [...credentials!.scopes]);
    },
  };
}
