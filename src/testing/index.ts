/**
 * `mcp-oauth-credentials/testing`: for your own tests: a local Google-like OAuth/OpenID Connect
 * provider (`startGoogleLikeProvider`), a cookie-keeping test browser for sign-in flows, a local TLS
 * server, the credential store contract suite for adapter authors, and a session backend wrapper
 * that counts round trips. ESM only; needs `vitest` and
 * `oauth2-mock-server` (optional peers).
 *
 * @packageDocumentation
 */

export type { BrowserPage, ParsedForm } from './browser.js';
export { parseForms, TestBrowser } from './browser.js';
export type { CredentialStoreContractOptions } from './contract.js';
export { describeCredentialStoreContract, sampleCredentials } from './contract.js';
export { CountingSessionBackend } from './counting-backend.js';
export type {
  GoogleLikeProvider,
  GoogleLikeProviderOptions,
  InjectedFailure,
  ProviderEndpoints,
} from './google-provider.js';
export { startGoogleLikeProvider } from './google-provider.js';
export type { Route, TlsServer } from './tls-server.js';
export { opensslAvailable, selfSignedCertificate, startTlsServer } from './tls-server.js';
