/**
 * `mcp-oauth-credentials/testing`: the shared credential store contract suite, for adapter authors.
 *
 * @packageDocumentation
 */

export type { BrowserPage, ParsedForm } from './browser.js';
export { parseForms, TestBrowser } from './browser.js';
export type { CredentialStoreContractOptions } from './contract.js';
export { describeCredentialStoreContract, sampleCredentials } from './contract.js';
export type { Route, TlsServer } from './tls-server.js';
export { opensslAvailable, selfSignedCertificate, startTlsServer } from './tls-server.js';
