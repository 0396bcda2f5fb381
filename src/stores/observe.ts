import { performance } from 'node:perf_hooks';
import { CredentialError } from '../errors.js';
import type { Logger } from '../logger.js';
import type {
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
