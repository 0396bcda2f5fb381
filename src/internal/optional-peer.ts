/**
 * Telling a missing optional peer dependency apart from any other failure to load a module.
 *
 * @module
 */

/** Whether `error` says that `specifier` (a package) could not be found. */
export function isMissingPackage(error: unknown, specifier: string): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : '';
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(specifier);
}
