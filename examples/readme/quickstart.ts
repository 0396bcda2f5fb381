import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CredentialManager, createCredentialStore, OAuth21SessionStore } from 'mcp-oauth-credentials';
import { createAuthHandlers, createToolAuth } from 'mcp-oauth-credentials/express';

const { GOOGLE_OAUTH_CLIENT_ID = '', GOOGLE_OAUTH_CLIENT_SECRET = '', SERVER_SECRET = '' } = process.env;
const redirectUri = 'http://127.0.0.1:8000/oauth/callback';
const oauth = { clientId: GOOGLE_OAUTH_CLIENT_ID, clientSecret: GOOGLE_OAUTH_CLIENT_SECRET, redirectUri };
const serverSecret = SERVER_SECRET; // 32+ random characters, the same on every replica
const sessionStore = new OAuth21SessionStore();
const manager = new CredentialManager({ store: await createCredentialStore(), sessionStore, oauth });
const auth = createAuthHandlers({ manager, sessionStore, redirectUri, serverSecret, scopes: ['profile'] });
const toolAuth = createToolAuth({ manager, sessionStore });
const app = createMcpExpressApp();
app.get('/auth/start', auth.startAuthorization); // send users here to sign in
app.get('/oauth/callback', auth.oauthCallback); // shows the bearer token for their MCP client
app.post('/mcp', requireBearerAuth({ verifier: sessionStore }), async (req, res) => {
  const server = new McpServer({ name: 'my-server', version: '1.0.0' });
  server.registerTool('whoami', { description: 'The signed-in Google account' }, async (extra) => {
    const user = await toolAuth.forRequest(extra); // this request's user, fresh token, no token in sight
    const profile = await (await user.fetch('https://openidconnect.googleapis.com/v1/userinfo')).json();
    return { content: [{ type: 'text', text: JSON.stringify(profile) }] };
  });
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
app.listen(8000);
