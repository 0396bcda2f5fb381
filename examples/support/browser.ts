/**
 * What a user's browser does during sign-in, done with fetch: follow the example server's start link
 * to the provider and back to the callback, carrying the cookies the server sets (the flow cookie),
 * including a second round through the provider when the server asks for consent again.
 */

export interface SignInResult {
  status: number;
  /** The JSON body of the callback (the bearer token is in `access_token`). */
  body: Record<string, unknown>;
}

/** A minimal cookie jar for one host (the example server); the provider sets no cookies. */
class Jar {
  readonly #cookies = new Map<string, string>();
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index).trim();
      const deleted = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute));
      if (deleted) this.#cookies.delete(name);
      else this.#cookies.set(name, pair.slice(index + 1).trim());
    }
  }
  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

async function follow(start: URL, jar: Jar, accept: string, serverOrigin: string): Promise<Response> {
  let url = start;
  for (let hop = 0; hop < 8; hop++) {
    const headers: Record<string, string> = { accept };
    if (url.origin === serverOrigin && jar.header()) headers.cookie = jar.header();
    const response = await fetch(url, { redirect: 'manual', headers });
    if (url.origin === serverOrigin) jar.store(response);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return response;
    await response.body?.cancel();
    url = new URL(location, url);
  }
  throw new Error('too many redirects');
}

/** Signs `userId` in through `${serverUrl}/auth/start`; resolves the callback's JSON answer. */
export async function browserSignIn(
  serverUrl: string,
  userId: string,
  query: Record<string, string> = {},
): Promise<SignInResult> {
  const start = new URL(`${serverUrl}/auth/start?${new URLSearchParams({ login_hint: userId, ...query })}`);
  const answer = await follow(start, new Jar(), 'application/json', start.origin);
  return { status: answer.status, body: (await answer.json().catch(() => ({}))) as Record<string, unknown> };
}

/** The two halves of a sign-in, for tests that tamper with the callback. */
export async function startSignIn(
  serverUrl: string,
  userId: string,
): Promise<{ cookie: string | undefined; callback: URL }> {
  const start = await fetch(`${serverUrl}/auth/start?${new URLSearchParams({ login_hint: userId })}`, {
    redirect: 'manual',
  });
  const cookie = start.headers.getSetCookie()[0]?.split(';')[0];
  const atProvider = await fetch(start.headers.get('location')!, { redirect: 'manual' });
  return { cookie, callback: new URL(atProvider.headers.get('location')!) };
}
