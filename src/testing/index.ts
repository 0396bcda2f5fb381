/**
 * `mcp-oauth-credentials/testing`: the shared credential store contract suite, for adapter authors.
 *
 * @packageDocumentation
 */
export type { CredentialStoreContractOptions } from './contract.js';
export { describeCredentialStoreContract, sampleCredentials } from './contract.js';
