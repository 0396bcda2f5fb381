/**
 * An MCP server over stdio (as desktop clients start them), acting for the one Google user of this
 * machine. Nobody signed in, or a tool needs a scope not granted yet: the tool asks for exactly that,
 * by URL elicitation when the client supports it (-32042, then notifications/elicitation/complete),
 * else by opening the browser (the URL also goes to stderr) and waiting. Credentials live in
 * google_workspace_mcp's directory by default, so both servers share one sign-in.
 *
 * Environment: GOOGLE_OAUTH_CLIENT_ID, GOOGLE_OAUTH_CLIENT_SECRET (a "Desktop app" client);
 * optional CREDENTIAL_STORE, USER_GOOGLE_EMAIL, OAUTH_ISSUER (another OpenID Connect provider),
 * SIGN_IN_TIMEOUT_MS, OPEN_BROWSER=false. Run: node --import tsx examples/stdio/server.ts
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createCredentialStore, type Logger } from 'mcp-oauth-credentials';
import { toolErrorMessage } from 'mcp-oauth-credentials/http';
import { createLocalToolAuth, LocalSignIn } from 'mcp-oauth-credentials/local';
import { CredentialManager, discoverOidcProvider } from 'mcp-oauth-credentials/manager';
import { urlElicitationError } from 'mcp-oauth-credentials/sdk-v1';

const CALENDAR_READONLY = 'https://www.googleapis.com/auth/calendar.readonly';
const env = process.env;
if (!env.GOOGLE_OAUTH_CLIENT_ID || !env.GOOGLE_OAUTH_CLIENT_SECRET) {
  process.stderr.write(
    'set GOOGLE_OAUTH_CLIENT_ID and GOOGLE_OAUTH_CLIENT_SECRET (a Desktop app OAuth client)\n',
  );
  process.exit(2);
}
// Logs go to stderr: stdout carries the MCP protocol.
const log =
  (level: string) =>
  (fields: Record<string, unknown>, message = '') =>
    process.stderr.write(`${level} ${message} ${JSON.stringify(fields)}\n`);
const logger: Logger = { debug: () => {}, info: log('info'), warn: log('warn'), error: log('error') };

const discovered = env.OAUTH_ISSUER ? await discoverOidcProvider(env.OAUTH_ISSUER) : undefined;
// No spec: google_workspace_mcp's directory (created 0700 on first use).
const store = await createCredentialStore(env.CREDENTIAL_STORE, { logger });
const manager = new CredentialManager({
  store,
  oauth: {
    clientId: env.GOOGLE_OAUTH_CLIENT_ID,
    clientSecret: env.GOOGLE_OAUTH_CLIENT_SECRET,
    ...(discovered ? { endpoints: discovered.endpoints, issuers: discovered.issuers } : {}),
  },
  logger,
});
const signIn = new LocalSignIn({
  manager,
  ...(env.SIGN_IN_TIMEOUT_MS ? { timeoutMs: Number(env.SIGN_IN_TIMEOUT_MS) } : {}),
  openBrowser: env.OPEN_BROWSER !== 'false',
  logger,
});
const auth = createLocalToolAuth({
  manager,
  store,
  signIn,
  ...(env.USER_GOOGLE_EMAIL ? { userId: env.USER_GOOGLE_EMAIL } : {}),
  logger,
});
const userinfoUrl = discovered?.userinfoUrl ?? 'https://openidconnect.googleapis.com/v1/userinfo';

const mcp = new McpServer({ name: 'mcp-oauth-credentials-stdio', version: '1.0.0' });
const tool = (
  name: string,
  description: string,
  scopes: string[],
  run: (user: Awaited<ReturnType<typeof auth.forRequest>>) => Promise<string>,
) =>
  mcp.registerTool(name, { description }, async () => {
    try {
      const user = await auth.forRequest({ scopes, server: mcp.server });
      return { content: [{ type: 'text' as const, text: await run(user) }] };
    } catch (error) {
      const elicitation = urlElicitationError(error, mcp.server);
      if (elicitation) throw elicitation;
      return { isError: true, content: [{ type: 'text' as const, text: toolErrorMessage(error) }] };
    }
  });

tool('get_profile', "The signed-in Google user's profile.", [], async (user) => {
  const profile = (await (await user.fetch(userinfoUrl)).json()) as { email?: string; name?: string };
  return JSON.stringify({ email: profile.email, name: profile.name });
});
tool(
  'read_calendar',
  'Needs Google Calendar read access, asked for on first use.',
  [CALENDAR_READONLY],
  async (user) => {
    const response = await user.fetch(userinfoUrl); // a real call with the broadened token
    return JSON.stringify({ user: user.userId, calendarAccess: response.ok, scopes: user.scopes });
  },
);

await mcp.connect(new StdioServerTransport());
