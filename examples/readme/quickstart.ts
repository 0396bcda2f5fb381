import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createCredentialStore } from 'mcp-oauth-credentials';
import { createAuthHandlers, createToolAuth } from 'mcp-oauth-credentials/express';
import { CredentialManager } from 'mcp-oauth-credentials/manager';
import { bearerVerifier } from 'mcp-oauth-credentials/sdk-v1';
import { OAuth21SessionStore } from 'mcp-oauth-credentials/session';

const { GOOGLE_OAUTH_CLIENT_ID: clientId = '', GOOGLE_OAUTH_CLIENT_SECRET: clientSecret = '' } = process.env;
const { SERVER_SECRET: serverSecret = '' } = process.env; // 32+ random characters, the same on every replica
const oauth = { clientId, clientSecret, redirectUri: 'http://127.0.0.1:8000/oauth/callback' };
const sessionStore = new OAuth21SessionStore();
const manager = new CredentialManager({ store: await createCredentialStore(), sessionStore, oauth });
const auth = createAuthHandlers({ manager, sessionStore, serverSecret, redirectUri: oauth.redirectUri });
const toolAuth = createToolAuth({ manager, sessionStore });
const app = createMcpExpressApp();
app.get('/auth/start', auth.startAuthorization).get('/oauth/callback', auth.oauthCallback); // sign-in pages
app.post('/mcp', requireBearerAuth({ verifier: bearerVerifier(sessionStore) }), async (req, res) => {
  const server = new McpServer({ name: 'my-server', version: '1.0.0' });
  server.registerTool('whoami', { description: 'The signed-in Google account' }, async (extra) => {
    const user = await toolAuth.forRequest(extra); // this request's user, fresh token, no token in sight
    const profile = await (await user.fetch('https://openidconnect.googleapis.com/v1/userinfo')).json();
    return { content: [{ type: 'text', text: JSON.stringify(profile) }] };
  });
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  await server.connect(transport).then(() => transport.handleRequest(req, res, req.body));
});
app.listen(8000);
