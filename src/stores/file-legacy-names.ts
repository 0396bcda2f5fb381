/**
 * {@link LegacyNameIndex}: which file an older Python server wrote for a user under another name
 * (capitals kept, or no quoting). Built by one directory scan and rebuilt only when the directory
 * changed since, so only misses and writes of new users pay for it.
 *
 * @module
 */
import { opendir, stat } from 'node:fs/promises';
import { classifyEntry } from './file-names.js';

/** See the module documentation. */
export class LegacyNameIndex {
  readonly #directory: string;
  #index: { builtFor: bigint; names: Map<string, string> } | undefined;

  constructor(directory: string) {
    this.#directory = directory;
  }

  /** The legacy file name of a user, if one exists. */
  async nameOf(userId: string): Promise<string | undefined> {
    const directoryStats = await stat(this.#directory, { bigint: true });
    if (this.#index === undefined || this.#index.builtFor !== directoryStats.mtimeNs) {
      const names = new Map<string, string>();
      for await (const entry of await opendir(this.#directory)) {
        const classified = classifyEntry(entry.name);
        // Stryker disable next-line ConditionalExpression: a canonical name indexed too is never answered: the store asks only when the canonical file is absent
        if (classified.kind === 'legacy') names.set(classified.userId, entry.name);
      }
      this.#index = { builtFor: directoryStats.mtimeNs, names };
    }
    return this.#index.names.get(userId);
  }

  /** Forgets a user's legacy file (it was removed). */
  // Stryker disable all: saves a rebuild only; the removal changed the directory's mtime, which rebuilds the index anyway
  forget(userId: string): void {
    this.#index?.names.delete(userId);
  }
}
// Stryker restore all
