/**
 * {@link EncryptedCredentialStore}: client-side AES-256-GCM encryption of the secrets in every record,
 * wrapping any {@link CredentialStore}, with a keyring so keys rotate without downtime.
 *
 * ## Envelope (version 1)
 *
 * Each secret field of a record (`accessToken`, `refreshToken`, `idToken`, `extra.client_secret`) is
 * replaced by the string
 *
 * ```
 * mcpoc:v1:<key id>:<96-bit nonce, base64url>:<ciphertext || 128-bit GCM tag, base64url>
 * ```
 *
 * sealed with AES-256-GCM under the keyring's primary key and a fresh random nonce. The authenticated
 * data binds the envelope to its user id, its field, its key id, the list of sealed fields and a
 * SHA-256 of the record's other interpreted fields (scopes, expiry, token type, client id, token URI),
 * so a record copied onto another user, a field moved to another field, an edited expiry or scope, or
 * a removed secret fails to open. The rest
 * of the record stays readable (for `list` and for operators) and keeps the inner store's format.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { StoredCredentials, VersionedCredentials } from '../credentials.js';
import type { KeyProvider } from '../encryption/keyring.js';
import { CorruptCredentialsError, InvalidInputError } from '../errors.js';
import { compareAndSwap } from '../internal/retry.js';
import { type Logger, silentLogger } from '../logger.js';
import { normaliseUserId } from '../user-id.js';
import { validateDelete, validateWrite } from './input.js';
import type { CredentialStore, DeleteOptions, PutOptions } from './types.js';

/** Options of {@link EncryptedCredentialStore}. */
export interface EncryptedCredentialStoreOptions {
  /** Where keys come from: a `Keyring` (`keyringFromEnv()`) or your own `KeyProvider`. */
  keyring: KeyProvider;
  /**
   * Read records that are not encrypted (for migrating an existing plaintext store); they are sealed
   * on their next write, and every such read is logged at `warn`. Default false: a plaintext record
   * is reported as corrupt.
   */
  acceptPlaintext?: boolean;
  /** Default: silent. */
  logger?: Logger;
}

/** What {@link EncryptedCredentialStore.rotateRecord} did. */
export type RotationOutcome = 'rotated' | 'current' | 'missing';

/** The hint of a plaintext record read without `acceptPlaintext` (the CLI words it as its flag). */
export const PLAINTEXT_HINT = 'to migrate plaintext records, open the store with acceptPlaintext: true';

const PREFIX = 'mcpoc';
const VERSION = 'v1';
const ENVELOPE = /^mcpoc:v1:([A-Za-z0-9._-]{1,64}):([A-Za-z0-9_-]{16}):([A-Za-z0-9_-]{22,})$/;
const TAG_BYTES = 16;

type SecretField = 'accessToken' | 'refreshToken' | 'idToken' | 'extra.client_secret';
type SealedField = SecretField | typeof MARKER_FIELD;

// Where a record with no secret carries its seal (an envelope of the empty string), and the field
// name bound into that envelope's authenticated data.
const MARKER_KEY = 'mcpoc_sealed';
const MARKER_FIELD = 'marker';

/** The envelopes of a sealed record: its sealed secrets, or its marker. */
function envelopesOf(record: StoredCredentials): Array<[SealedField, string]> {
  // Stryker disable next-line MethodExpression: a plaintext secret's key id is no key id, which sends the record to open() as a foreign id would; open() refuses the mix either way
  const out: Array<[SealedField, string]> = secretsOf(record).filter(([, value]) => isSealed(value));
  const marker = record.extra?.[MARKER_KEY];
  if (isSealed(marker)) out.push([MARKER_FIELD, marker as string]);
  return out;
}

function secretsOf(record: StoredCredentials): Array<[SecretField, string]> {
  const out: Array<[SecretField, string]> = [];
  if (record.accessToken !== '') out.push(['accessToken', record.accessToken]);
  if (record.refreshToken !== undefined) out.push(['refreshToken', record.refreshToken]);
  if (record.idToken !== undefined) out.push(['idToken', record.idToken]);
  const secret = record.extra?.client_secret;
  if (typeof secret === 'string') out.push(['extra.client_secret', secret]);
  return out;
}

function withSecrets(record: StoredCredentials, values: Map<SecretField, string>): StoredCredentials {
  // Stryker disable next-line ObjectLiteral: the only write to out.extra below replaces it with a copy, so sharing the input's extra changes nothing
  const out: StoredCredentials = { ...record, ...(record.extra ? { extra: { ...record.extra } } : {}) };
  for (const [field, value] of values) {
    if (field === 'extra.client_secret') out.extra = { ...out.extra, client_secret: value };
    else out[field] = value;
  }
  return out;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = value as Record<string, unknown>;
    // Keys in code-unit order (the default sort), so the digest never depends on how a backend ordered them.
    const keys = Object.keys(fields)
      .filter((key) => fields[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(fields[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * A digest of the record's interpreted, non-secret fields. `extra` is left out: it holds fields this
 * package does not interpret, which stores may normalise (a stale original `expiry` text is dropped).
 */
function metadataDigest(record: StoredCredentials): string {
  const { accessToken: _a, refreshToken: _r, idToken: _i, extra: _e, ...rest } = record;
  return createHash('sha256').update(canonical(rest)).digest('base64url');
}

function additionalData(
  userId: string,
  field: SealedField,
  keyId: string,
  sealed: SecretField[],
  digest: string,
): Buffer {
  return Buffer.from(
    [`${PREFIX}:${VERSION}`, userId, field, keyId, sealed.join(','), digest].join('\n'),
    'utf8',
  );
}

/** True when a string is an encryption envelope (of any version this package writes). */
export function isSealed(value: unknown): boolean {
  return typeof value === 'string' && value.startsWith(`${PREFIX}:`);
}

/**
 * Wraps any store: `put` seals the record's secrets before the inner store sees them, `get` opens
 * them. Versions, compare-and-swap, `delete` and `list` are the inner store's.
 *
 * A wrong or missing key, a tampered, truncated or moved record gives {@link CorruptCredentialsError}
 * naming the user and the key id; nothing partly decrypted is ever returned.
 */
export class EncryptedCredentialStore implements CredentialStore {
  readonly #inner: CredentialStore;
  readonly #keyring: KeyProvider;
  readonly #acceptPlaintext: boolean;
  readonly #logger: Logger;

  constructor(inner: CredentialStore, options: EncryptedCredentialStoreOptions) {
    this.#inner = inner;
    this.#keyring = options.keyring;
    this.#acceptPlaintext = options.acceptPlaintext ?? false;
    this.#logger = options.logger ?? silentLogger;
  }

  /** The wrapped store (records there are sealed). */
  get inner(): CredentialStore {
    return this.#inner;
  }

  async get(rawUserId: string): Promise<VersionedCredentials | undefined> {
    const userId = normaliseUserId(rawUserId);
    const entry = await this.#inner.get(userId);
    if (!entry) return undefined;
    return { credentials: await this.open(userId, entry.credentials), version: entry.version };
  }

  async put(rawUserId: string, credentials: StoredCredentials, options?: PutOptions): Promise<string> {
    const { userId, record } = validateWrite(rawUserId, credentials, options);
    if (secretsOf(record).some(([, value]) => isSealed(value)) || record.extra?.[MARKER_KEY] !== undefined) {
      throw new InvalidInputError(`credentials for ${userId} are already sealed; pass opened credentials`, {
        userId,
      });
    }
    return this.#inner.put(userId, await this.seal(userId, record), options);
  }

  async delete(rawUserId: string, options?: DeleteOptions): Promise<boolean> {
    return this.#inner.delete(validateDelete(rawUserId, options), options);
  }

  list(): AsyncIterable<string> {
    return this.#inner.list();
  }

  /** Closes the wrapped store (when it has a `close`). */
  async close(): Promise<void> {
    await this.#inner.close?.();
  }

  /**
   * Re-seals one record under the primary key if any of its envelopes uses another key (or it is
   * plaintext and `acceptPlaintext` is on). Compare-and-swap, so a concurrent write is never lost;
   * idempotent, so an interrupted rotation can simply run again.
   */
  async rotateRecord(rawUserId: string): Promise<RotationOutcome> {
    const userId = normaliseUserId(rawUserId);
    return compareAndSwap({ retries: 2 }, async (): Promise<RotationOutcome> => {
      const entry = await this.#inner.get(userId);
      if (!entry) return 'missing';
      const primary = await this.#keyring.primaryKey();
      const envelopes = envelopesOf(entry.credentials);
      const keyIds = new Set(envelopes.map(([, value]) => ENVELOPE.exec(value)?.[1]));
      if (keyIds.size === 1 && keyIds.has(primary.id)) {
        // Current, provided it opens: a record sealed under the primary key id but tampered is not "current".
        await this.open(userId, entry.credentials);
        return 'current';
      }
      const record = await this.open(userId, entry.credentials);
      await this.#inner.put(userId, await this.seal(userId, record), { ifVersion: entry.version });
      return 'rotated';
    });
  }

  /**
   * Seals a record's secrets under the primary key (see the module documentation for the format). A
   * record with no secrets carries a sealed marker instead, so it is recognisably this store's.
   */
  async seal(userId: string, record: StoredCredentials): Promise<StoredCredentials> {
    const { id: keyId, key } = await this.#keyring.primaryKey();
    const secrets = secretsOf(record);
    const fields = secrets.map(([field]) => field);
    const digest = metadataDigest(record);
    const envelope = (field: SealedField, value: string) => {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(additionalData(userId, field, keyId, fields, digest));
      const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${PREFIX}:${VERSION}:${keyId}:${nonce.toString('base64url')}:${body.toString('base64url')}`;
    };
    if (secrets.length === 0) {
      return { ...record, extra: { ...record.extra, [MARKER_KEY]: envelope(MARKER_FIELD, '') } };
    }
    const sealed = new Map<SecretField, string>();
    for (const [field, value] of secrets) sealed.set(field, envelope(field, value));
    return withSecrets(record, sealed);
  }

  /** Opens a sealed record, or throws {@link CorruptCredentialsError}. */
  async open(userId: string, record: StoredCredentials): Promise<StoredCredentials> {
    const secrets = secretsOf(record);
    const marker = record.extra?.[MARKER_KEY];
    const sealedFields = secrets.filter(([, value]) => isSealed(value));
    const marked = marker !== undefined;
    if (sealedFields.length === 0 && !marked) {
      if (this.#acceptPlaintext) {
        this.#logger.warn(
          { userId },
          'read a plaintext credentials record (acceptPlaintext); it is sealed on its next write',
        );
        return record;
      }
      throw new CorruptCredentialsError(`credentials for ${userId} are not encrypted`, {
        userId,
        hint: PLAINTEXT_HINT,
      });
    }
    // Every secret sealed, and a marker only on a record without secrets.
    if (sealedFields.length !== secrets.length || (marked && secrets.length > 0)) {
      throw new CorruptCredentialsError(`credentials for ${userId} mix encrypted and plaintext secrets`, {
        userId,
      });
    }
    const fields = secrets.map(([field]) => field);
    const digest = metadataDigest(record);
    if (marked) {
      await this.#decrypt(userId, MARKER_FIELD, String(marker), fields, digest);
      // The marker was read from extra, so extra is there.
      const { [MARKER_KEY]: _marker, ...extra } = record.extra as Record<string, unknown>;
      const { extra: _extra, ...rest } = record;
      return Object.keys(extra).length > 0 ? { ...rest, extra } : rest;
    }
    const opened = new Map<SecretField, string>();
    for (const [field, envelope] of secrets) {
      opened.set(field, await this.#decrypt(userId, field, envelope, fields, digest));
    }
    return withSecrets(record, opened);
  }

  async #decrypt(
    userId: string,
    field: SealedField,
    envelope: string,
    fields: SecretField[],
    digest: string,
  ): Promise<string> {
    const match = ENVELOPE.exec(envelope);
    if (!match) {
      throw new CorruptCredentialsError(
        `credentials for ${userId} hold a malformed or unsupported envelope`,
        {
          userId,
        },
      );
    }
    const [, keyId, nonce, body] = match as unknown as [string, string, string, string];
    const key = await this.#keyring.keyById(keyId);
    if (!key) {
      throw new CorruptCredentialsError(
        `credentials for ${userId} are sealed with key ${keyId}, which is not in the keyring`,
        { userId, keyId },
      );
    }
    const bytes = Buffer.from(body, 'base64url');
    // Stryker disable all: unreachable while ENVELOPE asks for 22+ body characters (16+ bytes); kept so
    // that loosening the pattern can never hand GCM a short tag (tag truncation)
    if (bytes.length < TAG_BYTES) {
      throw new CorruptCredentialsError(`credentials for ${userId} are truncated`, { userId, keyId });
    }
    // Stryker restore all
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
      decipher.setAAD(additionalData(userId, field, keyId, fields, digest));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new CorruptCredentialsError(
        `credentials for ${userId} do not decrypt with key ${keyId}: a wrong key, or a tampered, truncated or moved record`,
        { userId, keyId },
      );
    }
  }
}
