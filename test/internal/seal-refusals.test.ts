/**
 * Each refusal of the sealer on its own (the flow cookies and consent forms rest on them): what is
 * too long, malformed, under an unknown key, under another key's id, with a short nonce or body, for
 * another purpose; tags of the wrong shape or length; key sources that are empty. Each must answer
 * `undefined` / `false`, never throw, and never open what it should not.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError, Keyring } from '../../src/index.js';
import { Sealer } from '../../src/internal/seal.js';

const SECRET = 'a-server-secret-of-more-than-32-characters';
const OTHER = 'another-server-secret-of-more-than-32-chars';

const split = (sealed: string) => sealed.split('.') as [string, string, string, string];

describe('Sealer.open refusals', () => {
  it('opens a value of exactly 8192 characters and refuses one longer', async () => {
    const sealer = new Sealer(SECRET);
    // A sealed value's length depends only on its payload's length: find the payload that makes 8192.
    const sealedOf = (length: number) => sealer.seal('flow', 'x'.repeat(length));
    let length = 6000;
    while ((await sealedOf(length)).length < 8192) length += 1;
    const atLimit = await sealedOf(length);
    expect(atLimit.length).toBe(8192);
    expect(await sealer.open('flow', atLimit)).toBe('x'.repeat(length));
    const over = await sealedOf(length + 1);
    expect(over.length).toBeGreaterThan(8192);
    expect(await sealer.open('flow', over)).toBeUndefined();
  });

  it('refuses a value with more or fewer than four parts, or another format', async () => {
    const sealer = new Sealer(SECRET);
    const [, key, nonce, body] = split(await sealer.seal('flow', 'payload'));
    expect(await sealer.open('flow', ['v1', key, nonce, body].join('.'))).toBe('payload');
    expect(await sealer.open('flow', ['v1', key, nonce, body, ''].join('.'))).toBeUndefined();
    expect(await sealer.open('flow', ['v1', key, `${nonce}${body}`].join('.'))).toBeUndefined();
    expect(await sealer.open('flow', ['v2', key, nonce, body].join('.'))).toBeUndefined();
  });

  it('refuses a nonce that is not 12 bytes and a body no longer than its tag', async () => {
    const sealer = new Sealer(SECRET);
    const [format, key, nonce, body] = split(await sealer.seal('flow', 'payload'));
    const shortNonce = Buffer.from(nonce, 'base64url').subarray(0, 11).toString('base64url');
    const longNonce = Buffer.concat([Buffer.from(nonce, 'base64url'), Buffer.alloc(1)]).toString('base64url');
    expect(await sealer.open('flow', [format, key, shortNonce, body].join('.'))).toBeUndefined();
    expect(await sealer.open('flow', [format, key, longNonce, body].join('.'))).toBeUndefined();
    const tagOnly = Buffer.from(body, 'base64url').subarray(-16).toString('base64url');
    expect(await sealer.open('flow', [format, key, nonce, tagOnly].join('.'))).toBeUndefined();
    expect(await sealer.open('flow', [format, key, nonce, ''].join('.'))).toBeUndefined();
  });

  it('refuses a value whose key id was swapped for another key this sealer knows', async () => {
    const both = new Sealer([SECRET, OTHER]);
    const [format, primaryId, nonce, body] = split(await both.seal('flow', 'payload'));
    const otherId = split(await new Sealer(OTHER).seal('flow', 'x'))[1];
    expect(otherId).not.toBe(primaryId);
    expect(await both.open('flow', [format, otherId, nonce, body].join('.'))).toBeUndefined();
    expect(await both.open('flow', [format, 'sUNKNOWN', nonce, body].join('.'))).toBeUndefined();
  });

  it('answers undefined for anything that is not a string', async () => {
    const sealer = new Sealer(SECRET);
    for (const value of [null, 42, {}, ['v1']]) {
      expect(await sealer.open('flow', value as never)).toBeUndefined();
    }
  });
});

describe('Sealer with a keyring', () => {
  const key = (id: string, byte: number) => ({ id, key: new Uint8Array(32).fill(byte) });

  it("asks the keyring for an unknown key once, and never for an id that is not one of its ('k…')", async () => {
    const ring = new Keyring([key('2026-11', 1), key('2026-05', 2)]);
    const asked: string[] = [];
    const source = {
      primaryKey: () => ring.primaryKey(),
      keyById: (id: string) => {
        asked.push(id);
        return ring.keyById(id);
      },
    };
    const sealed = await new Sealer(new Keyring([key('2026-05', 2)])).seal('flow', 'old');
    const sealer = new Sealer(source);
    expect(await sealer.open('flow', sealed)).toBe('old');
    expect(await sealer.open('flow', sealed)).toBe('old');
    expect(asked).toEqual(['2026-05']);
    const [format, , nonce, body] = split(sealed);
    expect(await sealer.open('flow', [format, 's2026-05', nonce, body].join('.'))).toBeUndefined();
    expect(await sealer.open('flow', [format, 'kmissing', nonce, body].join('.'))).toBeUndefined();
    expect(asked).toEqual(['2026-05', 'missing']);
    expect(await sealer.verifyTag('csrf', 'data', 'snot-a-keyring-id.AAAA')).toBe(false);
    expect(asked).toEqual(['2026-05', 'missing']);
  });

  it('a secret-based sealer never treats a k-prefixed id as a key of its own', async () => {
    const ringSealed = await new Sealer(new Keyring([key('a', 1)])).seal('flow', 'x');
    expect(await new Sealer(SECRET).open('flow', ringSealed)).toBeUndefined();
  });

  it('tags with the primary key and verifies tags of any known key', async () => {
    const ring = new Sealer(new Keyring([key('new', 1), key('old', 2)]));
    const oldTag = await new Sealer(new Keyring([key('old', 2)])).tag('csrf', 'data');
    expect(oldTag.startsWith('kold.')).toBe(true);
    expect(await ring.verifyTag('csrf', 'data', oldTag)).toBe(true);
    expect((await ring.tag('csrf', 'data')).startsWith('knew.')).toBe(true);
  });
});

describe('Sealer.verifyTag refusals', () => {
  it('refuses tags without a key id, too long, or of another length', async () => {
    const sealer = new Sealer(SECRET);
    const tag = await sealer.tag('csrf', 'data');
    const [id, mac] = tag.split('.') as [string, string];
    expect(await sealer.verifyTag('csrf', 'data', `${id}.${mac}`)).toBe(true);
    expect(await sealer.verifyTag('csrf', 'data', `.${mac}`)).toBe(false);
    expect(await sealer.verifyTag('csrf', 'data', mac)).toBe(false);
    expect(await sealer.verifyTag('csrf', 'data', `${id}.${mac.slice(0, -2)}`)).toBe(false);
    expect(await sealer.verifyTag('csrf', 'data', `${id}.${mac}AA`)).toBe(false);
    expect(await sealer.verifyTag('csrf', 'data', `${id}.${mac}${'A'.repeat(256)}`)).toBe(false);
    expect(await new Sealer(OTHER).verifyTag('csrf', 'data', tag)).toBe(false);
  });
});

describe('Sealer key sources', () => {
  it('refuses null and an empty list, naming the option', () => {
    expect(() => new Sealer(null as never, 'cookieSecret')).toThrow('cookieSecret is required');
    expect(() => new Sealer([], 'cookieSecret')).toThrow(ConfigurationError);
  });

  it('refuses a non-string entry and names a single secret without an index', () => {
    expect(() => new Sealer([SECRET, 42 as never])).toThrow('serverSecret[1] must be at least 32 characters');
    expect(() => new Sealer('x'.repeat(31))).toThrow(/^serverSecret must be at least 32 characters$/);
    expect(() => new Sealer('x'.repeat(32))).not.toThrow();
    expect(() => new Sealer(['x'.repeat(31)])).toThrow(/^serverSecret must be at least 32 characters$/);
  });

  it('derives one key id per secret, stable across instances', async () => {
    const a = split(await new Sealer(SECRET).seal('p', 1))[1];
    const b = split(await new Sealer([SECRET, OTHER]).seal('p', 1))[1];
    const c = split(await new Sealer(OTHER).seal('p', 1))[1];
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(a).toMatch(/^s[A-Za-z0-9_-]{6}$/);
  });
});

describe('Sealer in logs', () => {
  it('shows as "Sealer {}" under util.inspect, whatever the depth', async () => {
    const { inspect } = await import('node:util');
    expect(inspect(new Sealer(SECRET), { showHidden: true, depth: 10 })).toBe('Sealer {}');
    expect(inspect({ nested: new Sealer(SECRET) })).toBe('{ nested: Sealer {} }');
  });
});
