/**
 * What of a third party's error may be kept as a `cause`: its name, code, HTTP status and a short
 * message. Never the rest: ioredis errors carry the command's arguments (stored JSON), AWS SDK errors
 * the signed request (access key id, signature), gaxios errors the request body (refresh tokens).
 *
 * @module
 */

/** A third party's error reduced to name, code, status and message. */
export class SanitisedCause extends Error {
  /** The original error's `code`, when it had a string one (`ECONNREFUSED`, `NoSuchBucket`...). */
  readonly code: string | undefined;
  /** The HTTP status the original error reported, when there was one. */
  readonly status: number | undefined;

  constructor(name: string, message: string, code: string | undefined, status: number | undefined) {
    super(message);
    this.name = name;
    this.code = code;
    this.status = status;
    // The stack of this object, not of the original (whose frames and text are not ours to keep).
    this.stack = `${name}: ${message}`;
  }
}

const MAX_MESSAGE = 200;

/**
 * Reduces any thrown value to a {@link SanitisedCause}. `redact` lists strings that must not appear
 * in the message (values the caller knows it passed to the backend).
 */
export function sanitiseCause(error: unknown, redact: readonly string[] = []): SanitisedCause {
  const source = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    Code?: unknown;
    status?: unknown;
    statusCode?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  const name = typeof source.name === 'string' && source.name !== '' ? source.name : 'Error';
  let message = typeof source.message === 'string' ? source.message : typeof error === 'string' ? error : '';
  for (const secret of redact) if (secret.length >= 8) message = message.split(secret).join('[redacted]');
  if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE)}…`;
  const rawCode = source.code ?? source.Code;
  const code =
    typeof rawCode === 'string' ? rawCode : typeof rawCode === 'number' ? String(rawCode) : undefined;
  const rawStatus = source.$metadata?.httpStatusCode ?? source.status ?? source.statusCode;
  const status = typeof rawStatus === 'number' ? rawStatus : undefined;
  return new SanitisedCause(name, message, code, status);
}
