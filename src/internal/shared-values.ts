/**
 * {@link SharedValues}: what many cached records have in common (scope sets, issuers, client ids), kept once.
 *
 * @module
 */

/**
 * Values many records kept in process have in common (scope sets, issuers, OAuth client ids, token
 * endpoints), kept once and shared. Bounded: past {@link SharedValues.MAX} distinct values of a kind,
 * a record keeps its own (a scope list frozen in place).
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
    if (this.#scopeSets.size >= SharedValues.MAX) return Object.freeze(scopes) as string[];
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
