/**
 * Cookies for the browser side of sign-in: parsing a `Cookie` header, and `Set-Cookie` values that are
 * HttpOnly, SameSite=Lax and, on https, `Secure` with the `__Host-` prefix (no Domain, Path=/), so no
 * other host or path can set or read them.
 *
 * @module
 */

/** Reads one cookie from a request's `Cookie` header. */
export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

/** How flow cookies are named and marked. */
export interface CookiePolicy {
  /** `Secure` and the `__Host-` prefix. True when the server's public URL is https. */
  secure: boolean;
}

/** The cookie's full name: `__Host-<base>` when secure (the browser then enforces Secure, Path=/, no Domain). */
export function cookieName(base: string, policy: CookiePolicy): string {
  return policy.secure ? `__Host-${base}` : base;
}

/** A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, `Secure` per policy; `maxAgeMs` 0 deletes it. */
export function setCookie(name: string, value: string, maxAgeMs: number, policy: CookiePolicy): string {
  const attributes = [
    `${name}=${value}`,
    'Path=/',
    `Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1000))}`,
    'HttpOnly',
    'SameSite=Lax',
  ];
  if (policy.secure) attributes.push('Secure');
  return attributes.join('; ');
}

/** A `Set-Cookie` value that deletes the cookie. */
export function clearCookie(name: string, policy: CookiePolicy): string {
  return setCookie(name, '', 0, policy);
}
