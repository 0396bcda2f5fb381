/**
 * Keys for {@link EncryptedCredentialStore}: a primary key that seals new records and older keys that
 * still open records sealed before a rotation. Keys come from the environment or from any
 * {@link KeyProvider} (a KMS can supply data keys; no KMS dependency here).
 *
 * @module
 */
import { ConfigurationError } from '../errors.js';

/** A 256-bit AES key and the id stored next to everything it seals. */
export interface EncryptionKey {
  /** 1 to 64 characters of `[A-Za-z0-9._-]`, e.g. `2026-11`. */
  id: string;
  /** Exactly 32 bytes. */
  key: Uint8Array;
}

/** Supplies keys. Implement it to fetch keys from a KMS or a secret manager. */
export interface KeyProvider {
  /** The key new records are sealed with. */
  primaryKey(): EncryptionKey | Promise<EncryptionKey>;
  /** A key by id, for opening records; `undefined` when unknown. */
  keyById(id: string): Uint8Array | undefined | Promise<Uint8Array | undefined>;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

function checkKey(candidate: EncryptionKey): EncryptionKey {
  if (!KEY_ID.test(candidate.id)) {
    throw new ConfigurationError('encryption key ids must be 1 to 64 characters of [A-Za-z0-9._-]');
  }
  if (!(candidate.key instanceof Uint8Array) || candidate.key.length !== 32) {
    throw new ConfigurationError(`encryption key ${candidate.id} must be exactly 32 bytes`);
  }
  return { id: candidate.id, key: Uint8Array.from(candidate.key) };
}

/**
 * A static keyring: `keys[0]` is primary, the rest open older records. Rotate by putting a new key
 * first and keeping the old ones until `rotate-key` has re-sealed every record.
 */
export class Keyring implements KeyProvider {
  readonly #primary: EncryptionKey;
  readonly #byId = new Map<string, Uint8Array>();

  constructor(keys: EncryptionKey[]) {
    if (keys.length === 0) throw new ConfigurationError('a keyring needs at least one key');
    for (const candidate of keys.map(checkKey)) {
      if (this.#byId.has(candidate.id))
        throw new ConfigurationError(`duplicate encryption key id ${candidate.id}`);
      this.#byId.set(candidate.id, candidate.key);
    }
    this.#primary = checkKey(keys[0]!);
  }

  /** Ids of all keys, primary first. */
  get keyIds(): string[] {
    return [...this.#byId.keys()];
  }

  primaryKey(): EncryptionKey {
    return this.#primary;
  }

  keyById(id: string): Uint8Array | undefined {
    return this.#byId.get(id);
  }

  /** Never shows key material. */
  toJSON(): { keyIds: string[] } {
    return { keyIds: this.keyIds };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Keyring { keyIds: ${JSON.stringify(this.keyIds)} }`;
  }
}

/** The environment variable {@link keyringFromEnv} reads by default. */
export const KEYS_ENV_VAR = 'MCP_OAUTH_CREDENTIALS_KEYS';

/**
 * Builds a keyring from an environment variable holding `id:base64key` pairs separated by commas, the
 * primary first: `MCP_OAUTH_CREDENTIALS_KEYS="2026-11:q1w2...=,2026-05:a9s8...="`. Keys are 32 bytes,
 * base64 or base64url (`openssl rand -base64 32`).
 *
 * @returns undefined when the variable is not set.
 * @throws ConfigurationError for a malformed value (the message never includes key material).
 */
export function keyringFromEnv(
  env: Record<string, string | undefined> = process.env,
  variable: string = KEYS_ENV_VAR,
): Keyring | undefined {
  const raw = env[variable]?.trim();
  if (!raw) return undefined;
  const keys = raw.split(',').map((entry, index) => {
    const separator = entry.indexOf(':');
    if (separator <= 0) {
      throw new ConfigurationError(`${variable}: entry ${index + 1} must look like id:base64key`);
    }
    const id = entry.slice(0, separator).trim();
    const material = entry.slice(separator + 1).trim();
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(material)) {
      throw new ConfigurationError(`${variable}: key ${id} is not base64`);
    }
    const key = Buffer.from(material.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length !== 32) throw new ConfigurationError(`${variable}: key ${id} must decode to 32 bytes`);
    return { id, key: new Uint8Array(key) };
  });
  return new Keyring(keys);
}
