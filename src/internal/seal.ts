/**
 * Sealed values for cookies and forms: AES-256-GCM with a purpose bound into the additional data,
 * and HMAC-SHA-256 tags, under keys derived (HKDF) from a server secret or taken from a keyring, so
 * every replica configured alike can open what another sealed.
 *
 * @module
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import type { KeyProvider } from '../encryption/keyring.js';
import { ConfigurationError } from '../errors.js';

/** A server secret: one string, or several (the first seals, all open: rotate by prepending). */
export type ServerSecret = string | readonly string[];

/** Where sealing keys come from: a server secret, or the keyring of the encrypted store. */
export type SealingKeySource = ServerSecret | KeyProvider;

/** The shortest accepted server secret, in characters (e.g. `openssl rand -base64 32` gives 44). */
export const MIN_SERVER_SECRET_LENGTH = 32;

interface DerivedKey {
  id: string;
  encryption: Buffer;
  authentication: Buffer;
}

const FORMAT = 'v1';
const SALT = Buffer.from('mcp-oauth-credentials/seal', 'utf8');

function derive(id: string, material: Uint8Array): DerivedKey {
  return {
    id,
    encryption: Buffer.from(hkdfSync('sha256', material, SALT, 'encryption', 32)),
    authentication: Buffer.from(hkdfSync('sha256', material, SALT, 'authentication', 32)),
  };
}

function isKeyProvider(source: SealingKeySource): source is KeyProvider {
  // Stryker disable next-line ConditionalExpression: the constructor refuses null before asking
  return typeof source === 'object' && source !== null && 'primaryKey' in source;
}

/**
 * Seals and opens short JSON payloads. Construct it once per server; it holds derived keys only.
 *
 * @throws ConfigurationError (naming `optionName`) for a missing or short secret.
 */
export class Sealer {
  readonly #source: SealingKeySource;
  readonly #derived = new Map<string, DerivedKey>();
  readonly #primaryId: string | undefined;

  constructor(source: SealingKeySource | undefined, optionName = 'serverSecret') {
    if (source === undefined || source === null || (Array.isArray(source) && source.length === 0)) {
      throw new ConfigurationError(
        `${optionName} is required: a random string of at least ${MIN_SERVER_SECRET_LENGTH} characters, the same on every replica (openssl rand -base64 32), or the keyring of the encrypted store`,
      );
    }
    this.#source = source;
    if (!isKeyProvider(source)) {
      const secrets = typeof source === 'string' ? [source] : [...source];
      secrets.forEach((secret, index) => {
        if (typeof secret !== 'string' || secret.length < MIN_SERVER_SECRET_LENGTH) {
          throw new ConfigurationError(
            `${optionName}${secrets.length > 1 ? `[${index}]` : ''} must be at least ${MIN_SERVER_SECRET_LENGTH} characters`,
          );
        }
        const material = Buffer.from(secret, 'utf8');
        const id = `s${createHmac('sha256', material).update('id').digest('base64url').slice(0, 6)}`;
        this.#derived.set(id, derive(id, material));
      });
      this.#primaryId = this.#derived.keys().next().value;
    }
  }

  /** Never shows key material. */
  toJSON(): { sealer: true } {
    return { sealer: true };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'Sealer {}';
  }

  async #primary(): Promise<DerivedKey> {
    if (this.#primaryId !== undefined) return this.#derived.get(this.#primaryId)!;
    const key = await (this.#source as KeyProvider).primaryKey();
    return this.#cached(`k${key.id}`, key.key);
  }

  async #byId(id: string): Promise<DerivedKey | undefined> {
    const known = this.#derived.get(id);
    if (known !== undefined || this.#primaryId !== undefined) return known;
    if (!id.startsWith('k')) return undefined;
    const material = await (this.#source as KeyProvider).keyById(id.slice(1));
    return material === undefined ? undefined : this.#cached(id, material);
  }

  #cached(id: string, material: Uint8Array): DerivedKey {
    let key = this.#derived.get(id);
    // Stryker disable next-line ConditionalExpression: deriving again gives the same key; this only caches it
    if (key === undefined) {
      key = derive(id, material);
      this.#derived.set(id, key);
    }
    return key;
  }

  /** Seals a JSON-serialisable payload for one purpose (the purpose must match when opening). */
  async seal(purpose: string, payload: unknown): Promise<string> {
    const key = await this.#primary();
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.encryption, nonce);
    cipher.setAAD(aad(purpose, key.id));
    const body = Buffer.concat([
      cipher.update(JSON.stringify(payload), 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return `${FORMAT}.${key.id}.${nonce.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** Opens what {@link seal} made for `purpose`; `undefined` for anything else (tampered, foreign, malformed). */
  async open<T>(purpose: string, sealed: string | undefined): Promise<T | undefined> {
    if (typeof sealed !== 'string' || sealed.length > 8192) return undefined;
    const parts = sealed.split('.');
    if (parts.length !== 4 || parts[0] !== FORMAT) return undefined;
    const [, keyId, nonceText, bodyText] = parts as [string, string, string, string];
    const key = await this.#byId(keyId);
    // Stryker disable next-line ConditionalExpression: without a key the decipher below throws inside its try, which answers undefined all the same
    if (key === undefined) return undefined;
    const nonce = Buffer.from(nonceText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: GCM authenticates the nonce, so a nonce or body of another length fails the tag check below (or setAuthTag throws) and answers undefined all the same; this only skips the work
    if (nonce.length !== 12 || body.length <= 16) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.encryption, nonce);
      decipher.setAAD(aad(purpose, key.id));
      decipher.setAuthTag(body.subarray(body.length - 16));
      const text = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
      return JSON.parse(text.toString('utf8')) as T;
    } catch {
      // Forged, damaged or sealed under another purpose: no value.
    }
    return undefined;
  }

  /** An HMAC tag of `data` for `purpose` (deterministic: the same input gives the same tag). */
  async tag(purpose: string, data: string): Promise<string> {
    const key = await this.#primary();
    return `${key.id}.${createHmac('sha256', key.authentication).update(`${purpose}\n${data}`).digest('base64url')}`;
  }

  /** Checks a {@link tag} in constant time, under any key this sealer knows. */
  async verifyTag(purpose: string, data: string, tag: unknown): Promise<boolean> {
    if (typeof tag !== 'string') return false;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a tag of 256 characters or more cannot match a 43-character MAC; the bound only caps the work on hostile input
    if (tag.length > 256) return false;
    const dot = tag.indexOf('.');
    // Stryker disable next-line ConditionalExpression,EqualityOperator: an empty key id, or a whole tag read as one, is known to no sealer, so the lookup below answers false all the same
    if (dot <= 0) return false;
    const key = await this.#byId(tag.slice(0, dot));
    if (key === undefined) return false;
    const expected = createHmac('sha256', key.authentication).update(`${purpose}\n${data}`).digest();
    const presented = Buffer.from(tag.slice(dot + 1), 'base64url');
    return presented.length === expected.length && timingSafeEqual(presented, expected);
  }
}

function aad(purpose: string, keyId: string): Buffer {
  return Buffer.from(`mcp-oauth-credentials:seal:${FORMAT}:${purpose}:${keyId}`, 'utf8');
}
