/**
 * The manager's monitoring events and the emitter that delivers them: a listener that throws is
 * logged and skipped, never able to fail a refresh or a sign-in.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../logger.js';

/** Events of {@link CredentialManager}, for monitoring. None carries a token. */
export interface CredentialManagerEvents {
  /** A refresh succeeded and was saved. */
  refreshed: { userId: string; durationMs: number; rotated: boolean; attempts: number };
  /** A refresh attempt failed (`willRetry` tells whether another attempt follows). */
  'refresh-failed': {
    userId: string;
    durationMs: number;
    errorCode: string;
    providerCode?: string;
    attempt: number;
    willRetry: boolean;
  };
  /** Another process saved a refresh first; this one used the winner's token. */
  'refresh-conflict': { userId: string };
  /** The user must authorize again; their dead credentials were removed (for `invalid_grant`). */
  'reauth-required': { userId: string; reason: 'invalid_grant' | 'no-refresh-token' };
  /** A user was authorized and their credentials saved. */
  authorized: { userId: string; durationMs: number; scopes: string[]; hasRefreshToken: boolean };
  /** A user's credentials were revoked. */
  revoked: { userId: string; durationMs: number; removed: boolean; providerRevoked: boolean };
}

/** Delivers {@link CredentialManagerEvents}; see the module documentation. */
export class ManagerEvents {
  readonly #emitter = new EventEmitter();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
    this.#emitter.setMaxListeners(100);
  }

  on<K extends keyof CredentialManagerEvents>(
    event: K,
    listener: (payload: CredentialManagerEvents[K]) => void,
  ): () => void {
    this.#emitter.on(event, listener);
    return () => this.#emitter.off(event, listener);
  }

  emit<K extends keyof CredentialManagerEvents>(event: K, payload: CredentialManagerEvents[K]): void {
    for (const listener of this.#emitter.listeners(event)) {
      try {
        (listener as (value: CredentialManagerEvents[K]) => void)(payload);
      } catch (error) {
        this.#logger.warn({ event, error: String(error) }, 'CredentialManager event listener threw; ignored');
      }
    }
  }
}
