/**
 * {@link SharedValues}: what the credential manager's cached records have in common, kept once.
 *
 * @module
 */

/**
 * Values many cached records have in common (scope sets, the OAuth client id, the token endpoint),
 * kept once and shared. Bounded: past {@link SharedValues.MAX} distinct values of a kind, a record
 * keeps its own.
 */
export class SharedValues {
  static readonly MAX = 1_000;
  readonly #scopeSets = new Map<string, string[]>();
  readonly #texts = new Map<string, string>();

  /** One frozen array per distinct list of scopes (same scopes, same order). */
  scopes(scopes: string[]): string[] {
    const key = scopes.join(' ');
    const known = this.#scopeSets.get(key);
    if (known !== undefined) return known;
    if (this.#scopeSets.size >= SharedValues.MAX) return scopes;
    const frozen = Object.freeze(scopes.map((scope) => this.text(scope))) as string[];
    this.#scopeSets.set(key, frozen);
    return frozen;
  }

  text(value: string): string {
    const known = this.#texts.get(value);
    if (known !== undefined) return known;
    if (this.#texts.size < SharedValues.MAX) this.#texts.set(value, value);
    return value;
  }
}
