/**
 * The views the session store hands out of its records: frozen, with exactly the public fields (no
 * `liveUntil`, no epoch under its own name), sharing a frozen scope list and copying an unfrozen one.
 */
import { describe, expect, it } from 'vitest';
import { SharedValues } from '../../src/internal/shared-values.js';
import type { SessionRecord, TokenRecord } from '../../src/session/records.js';
import {
  compactSession,
  frozenCopy,
  recordOfInfo,
  toAuthInfo,
  toSessionInfo,
  toValidatedAccess,
} from '../../src/session/views.js';

const token: TokenRecord = {
  userId: 'alice@example.com',
  epoch: 'epoch-1',
  scopes: ['openid', 'email'],
  clientId: 'client-1',
  issuedAt: 1_000,
  expiresAt: 1_700_000_123_999,
};

const session: SessionRecord = {
  userId: 'alice@example.com',
  scopes: ['openid'],
  createdAt: 10,
  updatedAt: 20,
  liveUntil: 30,
  epoch: 'epoch-1',
};

describe('toAuthInfo', () => {
  it('gives the SDK its fields: expiry in whole seconds (rounded down), the user in extra, frozen', () => {
    const info = toAuthInfo('tok', token);
    expect(info).toEqual({
      token: 'tok',
      clientId: 'client-1',
      scopes: ['openid', 'email'],
      expiresAt: 1_700_000_123,
      extra: { userId: 'alice@example.com' },
    });
    expect(Object.isFrozen(info)).toBe(true);
    expect(Object.isFrozen(info.extra)).toBe(true);
    expect(Object.isFrozen(info.scopes)).toBe(true);
    expect('resource' in info).toBe(false);
  });

  it('copies an unfrozen scope list (the record keeps its own) and shares a frozen one', () => {
    const loose = { ...token, scopes: ['a'] };
    const unfrozen = toAuthInfo('tok', loose);
    expect(unfrozen.scopes).not.toBe(loose.scopes);
    expect(unfrozen.scopes).toEqual(['a']);
    const scopes = Object.freeze(['a']) as string[];
    expect(toAuthInfo('tok', { ...token, scopes }).scopes).toBe(scopes);
    expect(Object.isFrozen(unfrozen.scopes)).toBe(true);
  });

  it('turns the resource into a URL when the token has one', () => {
    const info = toAuthInfo('tok', { ...token, resource: 'https://mcp.example.com/mcp' });
    expect(info.resource).toBeInstanceOf(URL);
    expect(info.resource?.href).toBe('https://mcp.example.com/mcp');
  });
});

describe('toSessionInfo', () => {
  it('shows the public fields and the epoch as generation, never liveUntil', () => {
    const info = toSessionInfo(session);
    expect(info).toEqual({
      userId: 'alice@example.com',
      scopes: ['openid'],
      createdAt: 10,
      updatedAt: 20,
      generation: 'epoch-1',
    });
    expect(Object.isFrozen(info)).toBe(true);
    expect(Object.isFrozen(info.scopes)).toBe(true);
  });

  it('adds each optional field only when the record has it', () => {
    const info = toSessionInfo({
      ...session,
      expiresAt: 40,
      issuer: 'https://accounts.google.com',
      clientId: 'client-1',
      mcpSessionId: 'mcp-1',
    });
    expect(info).toMatchObject({
      expiresAt: 40,
      issuer: 'https://accounts.google.com',
      clientId: 'client-1',
      mcpSessionId: 'mcp-1',
    });
    expect(Object.keys(toSessionInfo(session)).sort()).toEqual([
      'createdAt',
      'generation',
      'scopes',
      'updatedAt',
      'userId',
    ]);
  });

  it('is not taken for a record the store handed out (only getSession registers one)', () => {
    expect(recordOfInfo.get(toSessionInfo(session))).toBeUndefined();
  });
});

describe('toValidatedAccess', () => {
  it('names the user and how the access was allowed; builds the session view once, when read', () => {
    const access = toValidatedAccess(session, 'token');
    expect(access.userId).toBe('alice@example.com');
    expect(access.via).toBe('token');
    const first = access.session;
    expect(first).toEqual(toSessionInfo(session));
    expect(access.session).toBe(first);
  });

  it('serialises with its session', () => {
    expect(JSON.parse(JSON.stringify(toValidatedAccess(session, 'mcp-session')))).toEqual({
      userId: 'alice@example.com',
      via: 'mcp-session',
      session: {
        userId: 'alice@example.com',
        scopes: ['openid'],
        createdAt: 10,
        updatedAt: 20,
        generation: 'epoch-1',
      },
    });
  });
});

describe('compactSession and frozenCopy', () => {
  const session = (userId: string): SessionRecord => ({
    userId,
    scopes: ['openid', 'email'],
    issuer: `https://accounts.${'google'}.com`,
    clientId: `client-${1}`,
    createdAt: 1,
    updatedAt: 1,
    liveUntil: 2,
    epoch: `epoch-${userId}`,
  });

  it('compactSession returns a deep-frozen copy, never the object given', () => {
    const source = session('ada@example.com');
    const copy = compactSession(source, new SharedValues());
    expect(copy).toEqual(source);
    expect(copy).not.toBe(source);
    expect(Object.isFrozen(copy)).toBe(true);
    expect(Object.isFrozen(copy.scopes)).toBe(true);
    expect(Object.isFrozen(source)).toBe(false);
    expect(Object.isFrozen(source.scopes)).toBe(false);
  });

  it('compactSession shares the scope set between sessions and adds no field the record lacks', () => {
    const shared = new SharedValues();
    const ada = compactSession(session('ada@example.com'), shared);
    const bob = compactSession(session('bob@example.com'), shared);
    expect(bob.scopes).toBe(ada.scopes);
    const { issuer: _issuer, clientId: _clientId, ...bare } = session('eve@example.com');
    const eve = compactSession(bare, shared);
    expect(Object.keys(eve)).not.toContain('issuer');
    expect(Object.keys(eve)).not.toContain('clientId');
  });

  it('frozenCopy shares a frozen list and copies an unfrozen one into a frozen list', () => {
    const frozen = Object.freeze(['x']) as string[];
    expect(frozenCopy(frozen)).toBe(frozen);
    const loose = ['y'];
    const copied = frozenCopy(loose);
    expect(copied).not.toBe(loose);
    expect(copied).toEqual(['y']);
    expect(Object.isFrozen(copied)).toBe(true);
    loose.push('z');
    expect(copied).toEqual(['y']);
  });
});
