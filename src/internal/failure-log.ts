/**
 * {@link logFailure}: how a component reports a failure that ends a request without what the user
 * asked for (storage down or misconfigured, the provider unreachable or failing, a corrupt record):
 * once per error, at `warn` (outages: retrying later helps) or `error` (configuration, permissions,
 * corrupt data, bugs: someone must act), with the user, the operation, the error code and the
 * sanitised cause. Never a token: messages and causes of this package's errors carry none.
 *
 * @module
 */
import { isCredentialError } from '../errors.js';
import type { Logger } from '../logger.js';
import { SanitisedCause, sanitiseCause } from './sanitise.js';

/** Where a failure was decided. */
export interface FailureContext {
  /** The deciding component: `manager`, `session-store`, `sign-in`, `authorization-server`... */
  component: string;
  /** What it was doing: `getValidCredentials`, `verifyBearerToken`, `callback`... */
  operation: string;
  /** The user, when known (errors usually carry it themselves). */
  userId?: string;
}

// Errors already reported: a failure passes through several components (store, manager, tool
// helper, HTTP adapter) and must be logged by the first that decides, not by each.
const reported = new WeakSet<object>();

/** The log level of a failure, or undefined for outcomes that are answers, not failures. */
export function failureLevel(error: unknown): 'warn' | 'error' | undefined {
  if (!isCredentialError(error)) return 'error';
  switch (error.code) {
    case 'STORAGE_UNAVAILABLE':
    case 'PROVIDER_ERROR':
    case 'CONFLICT':
      return 'warn';
    case 'CONFIGURATION':
    case 'STORAGE_FORBIDDEN':
    case 'CORRUPT':
      return 'error';
    default:
      // Invalid input, refused tokens, denied access, sign-in needed: the caller gets an answer.
      return undefined;
  }
}

/** Logs `error` once (see the module documentation); later calls for the same error do nothing. */
export function logFailure(logger: Logger, error: unknown, context: FailureContext): void {
  const level = failureLevel(error);
  if (level === undefined) return;
  if (typeof error === 'object' && error !== null) {
    if (reported.has(error)) return;
    reported.add(error);
  }
  const credentialError = isCredentialError(error) ? error : undefined;
  const userId = context.userId ?? credentialError?.userId;
  const rawCause = credentialError ? credentialError.cause : error;
  const cause =
    rawCause === undefined
      ? undefined
      : rawCause instanceof SanitisedCause || isCredentialError(rawCause)
        ? rawCause
        : sanitiseCause(rawCause);
  logger[level](
    {
      component: context.component,
      operation: context.operation,
      ...(userId === undefined ? {} : { userId }),
      code: credentialError?.code ?? 'INTERNAL',
      error: credentialError ? credentialError.message : sanitiseCause(error).message,
      ...(cause === undefined
        ? {}
        : {
            cause: {
              name: (cause as Error).name,
              message: (cause as Error).message,
              ...((cause as { code?: unknown }).code === undefined
                ? {}
                : { code: (cause as { code?: unknown }).code }),
              ...((cause as { status?: unknown }).status === undefined
                ? {}
                : { status: (cause as { status?: unknown }).status }),
            },
          }),
      ...(credentialError?.hint === undefined ? {} : { hint: credentialError.hint }),
    },
    `${context.operation} failed`,
  );
}
