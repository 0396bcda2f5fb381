/**
 * The sign-in flow's cookies: reading exactly the named cookie (not one whose name merely contains
 * it), and `Set-Cookie` values that no other host, path or script can read or replace.
 */
import { describe, expect, it } from 'vitest';
import { clearCookie, cookieName, readCookie, setCookie } from '../../src/http/cookies.js';

const withCookies = (header?: string) =>
  new Request(
    'https://mcp.example.com/auth/callback',
    header === undefined ? {} : { headers: { cookie: header } },
  );

describe('readCookie', () => {
  it('finds the named cookie among others, trimming the spaces around names and values', () => {
    expect(readCookie(withCookies('a=1;  flow = sealed.value ; b=2'), 'flow')).toBe('sealed.value');
    expect(readCookie(withCookies('flow=first; other=x'), 'flow')).toBe('first');
    expect(readCookie(withCookies('other=x;flow=last'), 'flow')).toBe('last');
  });

  it('keeps an `=` inside the value', () => {
    expect(readCookie(withCookies('flow=a=b=='), 'flow')).toBe('a=b==');
  });

  it('does not take a cookie whose name only contains the one asked for', () => {
    expect(readCookie(withCookies('xflow=attacker; flowx=attacker2'), 'flow')).toBeUndefined();
    expect(readCookie(withCookies('__Host-flow=secure'), 'flow')).toBeUndefined();
  });

  it('ignores parts without a name or without `=`', () => {
    expect(readCookie(withCookies('=orphan; flow'), 'flow')).toBeUndefined();
    expect(readCookie(withCookies('=orphan; flow'), '')).toBeUndefined();
    expect(readCookie(withCookies('flow; flow=real'), 'flow')).toBe('real');
  });

  it('is undefined without a Cookie header, or an empty one', () => {
    expect(readCookie(withCookies(), 'flow')).toBeUndefined();
    expect(readCookie(withCookies(''), 'flow')).toBeUndefined();
  });

  it('answers an empty value as empty, not as missing', () => {
    expect(readCookie(withCookies('flow='), 'flow')).toBe('');
  });
});

describe('cookie names and Set-Cookie values', () => {
  it('uses the __Host- prefix only on https', () => {
    expect(cookieName('mcp_flow', { secure: true })).toBe('__Host-mcp_flow');
    expect(cookieName('mcp_flow', { secure: false })).toBe('mcp_flow');
  });

  it('marks every cookie HttpOnly, SameSite=Lax, Path=/, with Max-Age in whole seconds', () => {
    expect(setCookie('mcp_flow', 'v', 600_999, { secure: false })).toBe(
      'mcp_flow=v; Path=/; Max-Age=600; HttpOnly; SameSite=Lax',
    );
  });

  it('adds Secure on https', () => {
    expect(setCookie('__Host-mcp_flow', 'v', 60_000, { secure: true })).toBe(
      '__Host-mcp_flow=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure',
    );
  });

  it('never writes a negative Max-Age', () => {
    expect(setCookie('c', 'v', -5_000, { secure: false })).toContain('; Max-Age=0;');
  });

  it('deletes with an empty value and Max-Age=0, keeping the same attributes', () => {
    expect(clearCookie('__Host-mcp_flow', { secure: true })).toBe(
      '__Host-mcp_flow=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure',
    );
    expect(clearCookie('mcp_flow', { secure: false })).toBe(
      'mcp_flow=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax',
    );
  });
});
