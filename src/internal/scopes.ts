/**
 * Comparing Google scopes: the short OpenID names Google accepts in requests and the URLs it
 * answers with are the same scope (`email` = `.../auth/userinfo.email`).
 *
 * @module
 */
const ALIASES = new Map<string, string>([
  ['email', 'https://www.googleapis.com/auth/userinfo.email'],
  ['profile', 'https://www.googleapis.com/auth/userinfo.profile'],
]);

function canonical(scope: string): string {
  return ALIASES.get(scope) ?? scope;
}

// Granted scope lists are the manager's frozen copies, the same array on every request while the
// credentials are cached: their canonical set is computed once.
const canonicalSets = new WeakMap<readonly string[], ReadonlySet<string>>();

/** The scopes of `required` that `granted` does not cover, in `required`'s order and spelling. */
export function missingScopes(granted: readonly string[], required: readonly string[]): string[] {
  if (required.length === 0) return [];
  let have = canonicalSets.get(granted);
  if (have === undefined) {
    have = new Set(granted.map(canonical));
    canonicalSets.set(granted, have);
  }
  const missing: string[] = [];
  for (const scope of required) if (!have.has(canonical(scope))) missing.push(scope);
  return missing;
}
