import { randomBytes } from 'node:crypto';
import { type CredentialStore, createPkcePair, type StoredCredentials } from '../../src/index.js';
import type { AuthorizationResult, CredentialManager } from '../../src/manager/index.js';
import type { GoogleLikeProvider } from '../../src/testing/index.js';

export const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';
export const SCOPES = ['openid', 'email', 'https://www.googleapis.com/auth/drive.readonly'];

/**
 * Runs the authorization code flow against the provider as `userId` would in a browser: the
 * authorize redirect carries a code, which the manager exchanges with its PKCE verifier.
 */
export async function signIn(
  manager: CredentialManager,
  provider: GoogleLikeProvider,
  userId: string,
  options: { prompt?: string; scopes?: string[]; offline?: boolean } = {},
): Promise<AuthorizationResult> {
  const code = await authorizationCode(provider, userId, options);
  return manager.completeAuthorization({
    code: code.code,
    codeVerifier: code.codeVerifier,
    redirectUri: REDIRECT_URI,
  });
}

/** Obtains an authorization code (and its PKCE verifier) without exchanging it. */
export async function authorizationCode(
  provider: GoogleLikeProvider,
  userId: string,
  options: { prompt?: string; scopes?: string[]; offline?: boolean; redirectUri?: string } = {},
): Promise<{ code: string; codeVerifier: string }> {
  const pkce = createPkcePair();
  const url = new URL(provider.endpoints.oauth2AuthBaseUrl);
  url.search = new URLSearchParams({
    client_id: provider.clientId,
    redirect_uri: options.redirectUri ?? REDIRECT_URI,
    response_type: 'code',
    scope: (options.scopes ?? SCOPES).join(' '),
    state: randomBytes(16).toString('base64url'),
    code_challenge: pkce.codeChallenge,
    code_challenge_method: 'S256',
    login_hint: userId,
    ...(options.offline === false ? {} : { access_type: 'offline' }),
    ...(options.prompt ? { prompt: options.prompt } : {}),
  }).toString();
  const response = await fetch(url, { redirect: 'manual' });
  const location = new URL(response.headers.get('location') ?? '');
  const code = location.searchParams.get('code');
  if (!code) throw new Error(`no code in the authorize redirect: ${location.search}`);
  return { code, codeVerifier: pkce.codeVerifier };
}

/** Makes the stored access token of `userId` expire at `expiresAt`, keeping everything else. */
export async function setStoredExpiry(
  store: CredentialStore,
  userId: string,
  expiresAt: number,
): Promise<StoredCredentials> {
  const entry = await store.get(userId);
  if (!entry) throw new Error(`nothing stored for ${userId}`);
  const record = { ...entry.credentials, expiresAt };
  await store.put(userId, record, { ifVersion: entry.version });
  return record;
}
