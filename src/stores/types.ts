/**
 * The persistence contract every credential store implements, built-in or your own.
 *
 * @module
 */
import type { StoredCredentials, VersionedCredentials } from '../credentials.js';
import type { CredentialErrorCode } from '../errors.js';

/** Options of {@link CredentialStore.put}. */
export interface PutOptions {
  /**
   * Compare-and-swap. A string writes only if the stored version still equals it; `null` writes only
   * if no record exists. On a mismatch `put` rejects with `ConflictError` and writes nothing.
   * Omitted: unconditional write.
   */
  ifVersion?: string | null;
}

/** Options of {@link CredentialStore.delete}. */
export interface DeleteOptions {
  /**
   * Deletes only if the stored version still equals this. A record present at another version
   * rejects with `ConflictError` and stays; a missing record resolves `false` whatever this says.
   * Lets a caller remove credentials it knows are dead without removing a fresh login saved meanwhile.
   */
  ifVersion?: string;
}

/**
 * Where per-user credentials live. All methods take the user id in any letter case and normalise it;
 * an id that is not a valid email rejects with `InvalidInputError` before touching storage.
 *
 * Errors are typed: `ConflictError` for a lost compare-and-swap, `CorruptCredentialsError` for an
 * unreadable record (other users stay readable), `StorageUnavailableError` for a backend that is down,
 * `StorageForbiddenError` for a permission problem, `ConfigurationError` for a missing bucket or
 * directory. Methods reject; they never throw synchronously (the contract suite checks).
 */
export interface CredentialStore {
  /** Reads a user's credentials and their version; `undefined` when none are stored. */
  get(userId: string): Promise<VersionedCredentials | undefined>;
  /** Writes a user's credentials and resolves the new version. See {@link PutOptions}. */
  put(userId: string, credentials: StoredCredentials, options?: PutOptions): Promise<string>;
  /**
   * Removes a user's credentials. Resolves `true` if something was removed, `false` if nothing was
   * stored (idempotent); see {@link DeleteOptions.ifVersion} for the conditional form.
   */
  delete(userId: string, options?: DeleteOptions): Promise<boolean>;
  /** Every user id with a stored record, in no particular order. Never reads record contents. */
  list(): AsyncIterable<string>;
  /**
   * Optional: releases connections the store opened itself (a pool made from a connection string,
   * an SDK client it created); an injected client or pool is left to its owner. Idempotent.
   */
  close?(): Promise<void>;
}

/** The operations a store reports through {@link StoreOperationListener}. */
export type StoreOperation = 'get' | 'put' | 'delete' | 'list';

/**
 * How an operation ended: `ok`; `miss` (get or delete found nothing); `conflict` (a compare-and-swap
 * lost); `error` (anything else, with `errorCode`).
 */
export type StoreOperationOutcome = 'ok' | 'miss' | 'conflict' | 'error';

/** One store operation, as reported to monitoring. Carries no token and no record content. */
export interface StoreOperationEvent {
  /** Which kind of store: `memory`, `file`, `s3`, `encrypted` or a custom name. */
  store: string;
  operation: StoreOperation;
  /** The normalised user id, for per-user operations. */
  userId?: string;
  /** Wall time of the operation in milliseconds (for `list`, the whole iteration). */
  durationMs: number;
  outcome: StoreOperationOutcome;
  /** For `error` (and `conflict`): the typed error's code. */
  errorCode?: CredentialErrorCode;
  /** For `list`: how many user ids were yielded. */
  count?: number;
}

/** A monitoring callback. It runs synchronously after each operation; exceptions it throws are ignored. */
export type StoreOperationListener = (event: StoreOperationEvent) => void;
