/**
 * Store monitoring, written once: {@link OperationObserver} times and classifies each operation for
 * the built-in stores' `onOperation` option, and {@link observeStore} wraps any store (the encrypted
 * store, your own) so it reports the same events.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { CredentialError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { normaliseUserId } from '../user-id.js';
import type {
  CredentialStore,
  StoreOperation,
  StoreOperationEvent,
  StoreOperationListener,
  StoreOperationOutcome,
} from './types.js';

/** Reports each store operation to an optional listener, timing it and classifying its outcome. */
export class OperationObserver {
  readonly #store: string;
  readonly #listener: StoreOperationListener | undefined;
  readonly #logger: Logger;

  constructor(store: string, listener: StoreOperationListener | undefined, logger: Logger) {
    this.#store = store;
    this.#listener = listener;
    this.#logger = logger;
  }

  /** Runs `operation`, reports it, and passes its result or error through unchanged. */
  async run<T>(
    operation: StoreOperation,
    userId: string | undefined,
    work: () => Promise<T>,
    outcomeOf: (result: T) => StoreOperationOutcome = () => 'ok',
  ): Promise<T> {
    // Stryker disable next-line ConditionalExpression: without a listener emit() reports nothing anyway; this only skips the timing
    if (this.#listener === undefined) return work();
    const startedAt = performance.now();
    try {
      const result = await work();
      this.emit(operation, userId, startedAt, outcomeOf(result));
      return result;
    } catch (error) {
      this.emitError(operation, userId, startedAt, error);
      throw error;
    }
  }

  /** Wraps an async iterable so its whole iteration is reported once, with the count yielded. */
  async *iterate(source: () => AsyncIterable<string>): AsyncIterable<string> {
    const startedAt = performance.now();
    let count = 0;
    try {
      for await (const item of source()) {
        count += 1;
        yield item;
      }
    } catch (error) {
      this.emitError('list', undefined, startedAt, error, count);
      throw error;
    }
    this.emit('list', undefined, startedAt, 'ok', count);
  }

  private emitError(
    operation: StoreOperation,
    userId: string | undefined,
    startedAt: number,
    error: unknown,
    count?: number,
  ): void {
    const errorCode = error instanceof CredentialError ? error.code : undefined;
    const outcome = errorCode === 'CONFLICT' ? 'conflict' : 'error';
    this.emit(operation, userId, startedAt, outcome, count, errorCode);
  }

  private emit(
    operation: StoreOperation,
    userId: string | undefined,
    startedAt: number,
    outcome: StoreOperationOutcome,
    count?: number,
    errorCode?: StoreOperationEvent['errorCode'],
  ): void {
    if (this.#listener === undefined) return;
    const event: StoreOperationEvent = {
      store: this.#store,
      operation,
      durationMs: performance.now() - startedAt,
      outcome,
    };
    if (userId !== undefined) event.userId = userId;
    if (errorCode !== undefined) event.errorCode = errorCode;
    if (count !== undefined) event.count = count;
    try {
      this.#listener(event);
    } catch (listenerError) {
      this.#logger.warn(
        { store: this.#store, operation, error: String(listenerError) },
        'store operation listener threw; ignored',
      );
    }
  }
}

/** Options of {@link observeStore}. */
export interface ObserveStoreOptions {
  /** The `store` field of each event. Default: `custom`. */
  name?: string;
  /** Receives one event per operation, after it ends. A listener that throws is logged and ignored. */
  onOperation: StoreOperationListener;
  /** Where a throwing listener is logged. Default: silent. */
  logger?: Logger;
}

/**
 * `store`, reporting every operation to `onOperation`: its duration, outcome (`ok`, `miss` for a
 * `get` or `delete` that found nothing, `conflict`, `error`) and error code, the user id, and for
 * `list` the count. Results and errors pass through unchanged. This is how the encrypted store and
 * custom stores get the monitoring the built-in stores have through their `onOperation` option.
 *
 * @example
 * ```ts
 * const store = observeStore(new EncryptedCredentialStore(inner, { keyring }), {
 *   name: 'encrypted',
 *   onOperation: (event) => metrics.record(event.store, event.operation, event.outcome, event.durationMs),
 * });
 * ```
 */
export function observeStore(store: CredentialStore, options: ObserveStoreOptions): CredentialStore {
  const observer = new OperationObserver(
    options.name ?? 'custom',
    options.onOperation,
    options.logger ?? silentLogger,
  );
  const found = (result: unknown): StoreOperationOutcome => (result ? 'ok' : 'miss');
  return {
    get: (userId) => observer.run('get', idOf(userId), () => store.get(userId), found),
    put: (userId, credentials, putOptions) =>
      observer.run('put', idOf(userId), () => store.put(userId, credentials, putOptions)),
    delete: (userId, deleteOptions) =>
      observer.run('delete', idOf(userId), () => store.delete(userId, deleteOptions), found),
    list: () => observer.iterate(() => store.list()),
    ...(store.close === undefined ? {} : { close: () => store.close!() }),
  };
}

/** The normalised id for the event; `undefined` for an id the store is about to refuse. */
function idOf(userId: string): string | undefined {
  try {
    return normaliseUserId(userId);
  } catch {
    // Not a user id: the event names none.
  }
  return undefined;
}
