/**
 * What a user's browser does during sign-in, done with fetch: follow the example server's start link
 * to the provider, come back to the callback with the code and state, carrying the flow cookie.
 */

export interface SignInResult {
  status: number;
  /** The JSON body of the callback (the bearer token is in `access_token`). */
  body: Record<string, unknown>;
}

function cookieFrom(response: Response): string | undefined {
  const setCookie = response.headers.get('set-cookie');
  return setCookie ? setCookie.split(';')[0] : undefined;
}

/** Signs `userId` in through `${serverUrl}/auth/start`; resolves the callback's JSON answer. */
export async function browserSignIn(
  serverUrl: string,
  userId: string,
  query: Record<string, string> = {},
): Promise<SignInResult> {
  const start = await fetch(
    `${serverUrl}/auth/start?${new URLSearchParams({ login_hint: userId, ...query })}`,
    {
      redirect: 'manual',
    },
  );
  if (start.status !== 302)
    return { status: start.status, body: (await start.json().catch(() => ({}))) as Record<string, unknown> };
  const cookie = cookieFrom(start);
  const atProvider = await fetch(start.headers.get('location')!, { redirect: 'manual' });
  const callback = new URL(atProvider.headers.get('location')!);
  const answer = await fetch(callback, {
    headers: { accept: 'application/json', ...(cookie ? { cookie } : {}) },
  });
  return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
}

/** The two halves of a sign-in, for tests that tamper with the callback. */
export async function startSignIn(
  serverUrl: string,
  userId: string,
): Promise<{ cookie: string | undefined; callback: URL }> {
  const start = await fetch(`${serverUrl}/auth/start?${new URLSearchParams({ login_hint: userId })}`, {
    redirect: 'manual',
  });
  const cookie = cookieFrom(start);
  const atProvider = await fetch(start.headers.get('location')!, { redirect: 'manual' });
  return { cookie, callback: new URL(atProvider.headers.get('location')!) };
}
