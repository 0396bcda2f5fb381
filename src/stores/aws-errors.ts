/**
 * What the S3 and DynamoDB stores have in common when the AWS SDK fails: the error's name and HTTP
 * status, the set-up mistakes it reports at request time (no credentials, refused credentials, no
 * region, an endpoint that is not a URL), a refusal (403) and, after the SDK's own retries, an
 * outage. Each store maps its own service's errors first, then hands the rest to
 * {@link translateAwsError}.
 *
 * @module
 */
import {
  ConfigurationError,
  type CredentialError,
  isCredentialError,
  StorageForbiddenError,
  StorageUnavailableError,
} from '../errors.js';

/** The AWS error's name (`Code` for S3's XML errors), when it has a meaningful one. */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const named = (error as { Code?: unknown }).Code ?? (error as { name?: unknown }).name;
  return typeof named === 'string' && named !== 'Error' ? named : undefined;
}

/** The HTTP status of the AWS response, when there was one. */
export function awsHttpStatus(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata
    ?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** What {@link translateAwsError} needs to word its errors. */
export interface AwsFailureContext {
  /** `S3`, `DynamoDB`. */
  service: string;
  /** The store operation that failed (`get`, `put`…). */
  operation: string;
  /** The user the operation was about, if any. */
  userId: string | undefined;
  /** Where: `s3://bucket/prefix/`, `table my-table`. */
  where: string;
  /** The IAM permission to grant when the service refused (`s3:GetObject on …`). */
  grant: string;
}

/** Whether AWS refused the credentials themselves (not a permission): a misconfiguration, not an outage. */
function refusesCredentials(name: string | undefined): boolean {
  switch (name) {
    case 'InvalidAccessKeyId':
    case 'SignatureDoesNotMatch':
    case 'ExpiredToken':
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'ExpiredTokenException':
      return true;
    // Stryker disable next-line ConditionalExpression: without the default the function returns undefined, which its callers read as false
    default:
      return false;
  }
}

/**
 * The package's error for an AWS SDK failure that is not specific to one service: a
 * {@link ConfigurationError} for a set-up mistake (retrying will not help), a
 * {@link StorageForbiddenError} naming what to grant for a refusal, else a
 * {@link StorageUnavailableError} (the SDK has retried already). The raw error becomes a sanitised
 * cause; an error of this package passes through.
 */
export function translateAwsError(error: unknown, context: AwsFailureContext): CredentialError {
  if (isCredentialError(error)) return error;
  const name = awsErrorName(error);
  const status = awsHttpStatus(error);
  const message = error instanceof Error ? error.message : '';
  const who = context.userId === undefined ? '' : ` for ${context.userId}`;
  // Stryker disable next-line ConditionalExpression: `{ userId: undefined }` gives an error whose userId is undefined as well
  const options = { cause: error, ...(context.userId === undefined ? {} : { userId: context.userId }) };
  const misconfigured = (what: string, hint: string) =>
    new ConfigurationError(`the ${context.service} store is misconfigured: ${what}`, { ...options, hint });
  if (
    name === 'CredentialsProviderError' ||
    (/credential/i.test(message) && /could not load|unable to load|missing/i.test(message))
  ) {
    return misconfigured(
      'no AWS credentials were found',
      'configure credentials for the AWS SDK default provider chain (environment, profile, or role)',
    );
  }
  if (refusesCredentials(name)) {
    return new ConfigurationError(`${context.service} refused the AWS credentials (${name})`, {
      ...options,
      hint: 'check the credentials the AWS SDK default provider chain resolves',
    });
  }
  if (/region is missing/i.test(message)) {
    return misconfigured(
      'no AWS region',
      'set AWS_REGION (or AWS_DEFAULT_REGION), or pass region to the store',
    );
  }
  if (error instanceof TypeError && /invalid url/i.test(message)) {
    return misconfigured(
      'the endpoint is not a valid URL',
      'pass endpoint as an absolute URL, e.g. https://s3.eu-west-1.amazonaws.com',
    );
  }
  if (
    name === 'AccessDenied' ||
    name === 'AccessDeniedException' ||
    name === 'AllAccessDisabled' ||
    status === 403
  ) {
    return new StorageForbiddenError(
      `${context.service} denied ${context.operation}${who} on ${context.where}`,
      {
        ...options,
        hint: `grant ${context.grant}`,
      },
    );
  }
  const reason = name ?? (status === undefined ? 'network error' : `HTTP ${status}`);
  return new StorageUnavailableError(
    `${context.service} ${context.operation}${who} failed after retries (${reason})`,
    {
      ...options,
      hint: `${context.service} is throttling, failing or unreachable; the operation can be retried`,
    },
  );
}
