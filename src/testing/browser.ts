/**
 * {@link TestBrowser}, for tests of servers built on this package: a cookie jar (per host name, as browsers key cookies; paths and expiry honoured),
 * manual redirect following, and form submission for the server's own pages. Each instance is one
 * browser profile, so a test can open a link "in another browser" by using another instance.
 */

interface StoredCookie {
  value: string;
  path: string;
  expiresAt: number | undefined;
}

/** A page as {@link TestBrowser} fetched it (after redirects). */
export interface BrowserPage {
  url: URL;
  status: number;
  headers: Headers;
  html: string;
}

/** An HTML form of a page, as {@link parseForms} reads it. */
export interface ParsedForm {
  action: URL;
  method: string;
  fields: Record<string, string>;
  /** `name=value` of each submit button. */
  buttons: Array<{ name: string; value: string }>;
}

/**
 * A browser for tests: follows redirects and keeps cookies per origin (HttpOnly, Secure, SameSite and
 * `__Host-` rules as a browser applies them), so sign-in and consent flows run as a user would.
 */
export class TestBrowser {
  readonly #jar = new Map<string, Map<string, StoredCookie>>();
  /** Every URL this browser requested, in order. */
  readonly visited: URL[] = [];

  /** Sends a request with this browser's cookies and stores the cookies it sets. No redirects followed. */
  async request(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const url = new URL(input);
    this.visited.push(url);
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(url);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.#store(url, response.headers.getSetCookie());
    return response;
  }

  /** The Cookie header this browser would send to `url`. */
  cookieHeader(url: URL): string {
    const now = Date.now();
    const cookies = this.#jar.get(url.hostname);
    if (!cookies) return '';
    const parts: string[] = [];
    for (const [name, cookie] of cookies) {
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= now) continue;
      if (!url.pathname.startsWith(cookie.path)) continue;
      parts.push(`${name}=${cookie.value}`);
    }
    return parts.join('; ');
  }

  /** Names of the cookies held for a host. */
  cookieNames(host: string): string[] {
    return [...(this.#jar.get(host)?.keys() ?? [])];
  }

  /** Raw Set-Cookie attributes are parsed here; `Max-Age=0` or a past `Expires` deletes. */
  #store(url: URL, setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';');
      const index = pair!.indexOf('=');
      if (index <= 0) continue;
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      let path = '/';
      let expiresAt: number | undefined;
      for (const attribute of attributes) {
        const [key, raw = ''] = attribute.split('=');
        const lower = key!.trim().toLowerCase();
        if (lower === 'path') path = raw.trim() || '/';
        if (lower === 'max-age') expiresAt = Date.now() + Number(raw.trim()) * 1000;
        if (lower === 'expires' && expiresAt === undefined) expiresAt = Date.parse(raw.trim());
      }
      let cookies = this.#jar.get(url.hostname);
      if (!cookies) {
        cookies = new Map();
        this.#jar.set(url.hostname, cookies);
      }
      if (expiresAt !== undefined && expiresAt <= Date.now()) cookies.delete(name);
      else cookies.set(name, { value, path, expiresAt });
    }
  }

  /**
   * Follows an authorization from `start` the way a user who approves would: redirects, and this
   * package's consent page (submitted with Approve), until the browser is sent to a URL that
   * satisfies `stopAt` (the client's redirect URI). Resolves that URL, or throws with the page the
   * flow stopped at.
   */
  async authorize(start: string | URL, stopAt: (url: URL) => boolean): Promise<URL> {
    const first = await this.navigate(start, stopAt);
    if (first.stoppedAt) return first.stoppedAt;
    const page = first.page!;
    if (page.status !== 200 || !page.html.includes('name="decision"')) {
      throw new Error(`the authorization stopped at ${page.url.pathname} (${page.status})`);
    }
    const answer = await this.submit(page, { button: 'approve' });
    const location = answer.headers.get('location');
    if (!location) throw new Error(`the consent page answered ${answer.status} without a redirect`);
    const next = await this.navigate(new URL(location, page.url), stopAt);
    if (!next.stoppedAt)
      throw new Error(`the authorization stopped at ${next.page?.url.pathname} after consent`);
    return next.stoppedAt;
  }

  /**
   * Follows redirects from `start` until a response is not a redirect, or the next location
   * satisfies `stopAt` (not requested, as a native app's redirect URI would not be). Resolves the
   * last page, or `{ stoppedAt }` when `stopAt` matched.
   */
  async navigate(
    start: string | URL,
    stopAt: (url: URL) => boolean = () => false,
    init: RequestInit = {},
  ): Promise<{ page?: BrowserPage; stoppedAt?: URL }> {
    let url = new URL(start);
    if (stopAt(url)) return { stoppedAt: url };
    let response = await this.request(url, init);
    for (let hop = 0; hop < 12; hop++) {
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) {
        return {
          page: { url, status: response.status, headers: response.headers, html: await response.text() },
        };
      }
      await response.body?.cancel();
      url = new URL(location, url);
      if (stopAt(url)) return { stoppedAt: url };
      // A browser keeps its Accept header across redirects; the method becomes GET.
      response = await this.request(url, init.headers === undefined ? {} : { headers: init.headers });
    }
    throw new Error('too many redirects');
  }

  /** Submits a form of `page` (the first, or the one whose action path is `actionPath`) with a button. */
  async submit(
    page: BrowserPage,
    options: { button?: string; actionPath?: string; overrides?: Record<string, string> } = {},
  ): Promise<Response> {
    const forms = parseForms(page);
    const form = options.actionPath
      ? forms.find((candidate) => candidate.action.pathname === options.actionPath)
      : forms[0];
    if (!form) throw new Error(`no form on ${page.url.pathname}`);
    const body = new URLSearchParams({ ...form.fields, ...options.overrides });
    const button = options.button
      ? form.buttons.find((candidate) => candidate.value === options.button)
      : form.buttons[0];
    if (button) body.set(button.name, button.value);
    return this.request(form.action, {
      method: form.method.toUpperCase(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: page.url.origin },
      body,
    });
  }
}

const decode = (text: string) =>
  text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, '&');

/** The forms of one of this package's pages (simple, well-formed markup; not a general HTML parser). */
export function parseForms(page: BrowserPage): ParsedForm[] {
  const forms: ParsedForm[] = [];
  for (const match of page.html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const attributes = match[1]!;
    const inner = match[2]!;
    const action = /action="([^"]*)"/.exec(attributes)?.[1] ?? '';
    const method = /method="([^"]*)"/.exec(attributes)?.[1] ?? 'get';
    const fields: Record<string, string> = {};
    for (const input of inner.matchAll(/<input\b([^>]*)>/g)) {
      const name = /name="([^"]*)"/.exec(input[1]!)?.[1];
      const value = /value="([^"]*)"/.exec(input[1]!)?.[1] ?? '';
      if (name) fields[decode(name)] = decode(value);
    }
    const buttons: ParsedForm['buttons'] = [];
    for (const button of inner.matchAll(/<button\b([^>]*)>/g)) {
      const name = /name="([^"]*)"/.exec(button[1]!)?.[1];
      const value = /value="([^"]*)"/.exec(button[1]!)?.[1] ?? '';
      if (name) buttons.push({ name: decode(name), value: decode(value) });
    }
    forms.push({ action: new URL(decode(action), page.url), method, fields, buttons });
  }
  return forms;
}
