/**
 * Loads the S3 store on demand (a separate chunk in the build), so nothing that does not use S3
 * loads the AWS SDK, and a missing `@aws-sdk/client-s3` is a `ConfigurationError` with the fix.
 *
 * @module
 */
import { ConfigurationError } from '../errors.js';

/** Whether `error` says that `specifier` (a package) could not be found. */
export function isMissingPackage(error: unknown, specifier: string): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : '';
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(specifier);
}

/** The S3 store module; {@link ConfigurationError} naming the package to install when it is missing. */
export async function loadS3Store(): Promise<typeof import('./s3.js')> {
  try {
    return await import('./s3.js');
  } catch (error) {
    if (isMissingPackage(error, '@aws-sdk/client-s3')) {
      throw new ConfigurationError('s3:// stores need the optional peer dependency @aws-sdk/client-s3', {
        hint: 'npm install @aws-sdk/client-s3',
      });
    }
    throw error;
  }
}
