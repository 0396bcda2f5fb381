import { exportJWK, exportSPKI, generateKeyPair, type JWK } from 'jose';

/** An RS256 key pair for signing test id_tokens, with its public half as a JWK and as a PEM. */
export interface SigningKey {
  kid: string;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  jwk: JWK;
  pem: string;
}

export async function signingKey(kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    kid,
    privateKey,
    jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
    pem: await exportSPKI(publicKey),
  };
}
