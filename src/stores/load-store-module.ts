/**
 * Loads the stores built on an optional peer (S3, DynamoDB) on demand, each a separate chunk in the
 * build, so nothing that does not use them loads the AWS SDK, and a missing SDK package is a
 * `ConfigurationError` with the fix.
 *
 * @module
 */
import { ConfigurationError } from '../errors.js';
import { isMissingPackage } from '../internal/optional-peer.js';

export { isMissingPackage } from '../internal/optional-peer.js';

async function loadStoreModule<T>(load: () => Promise<T>, scheme: string, peer: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isMissingPackage(error, peer)) {
      throw new ConfigurationError(`${scheme} stores need the optional peer dependency ${peer}`, {
        hint: `npm install ${peer}`,
      });
    }
    throw error;
  }
}

/** The S3 store module; {@link ConfigurationError} naming the package to install when it is missing. */
export function loadS3Store(): Promise<typeof import('./s3.js')> {
  return loadStoreModule(() => import('./s3.js'), 's3://', '@aws-sdk/client-s3');
}

/** The DynamoDB store module; {@link ConfigurationError} naming the package to install when it is missing. */
export function loadDynamoStore(): Promise<typeof import('./dynamodb.js')> {
  return loadStoreModule(() => import('./dynamodb.js'), 'dynamodb://', '@aws-sdk/client-dynamodb');
}
