import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, Keyring } from '../../src/index.js';
import { Sealer } from '../../src/internal/seal.js';

const SECRET = 'a-server-secret-of-more-than-32-characters';

describe('Sealer', () => {
  it('round-trips a payload for its purpose, and nothing else', async () => {
    const sealer = new Sealer(SECRET);
    const sealed = await sealer.seal('flow', { n: 'nonce', x: 1 });
    expect(await sealer.open('flow', sealed)).toEqual({ n: 'nonce', x: 1 });
    expect(await sealer.open('consent', sealed)).toBeUndefined();
    const [format, key, nonce, body] = sealed.split('.') as [string, string, string, string];
    const flipped = `${body.slice(0, 5)}${body[5] === 'A' ? 'B' : 'A'}${body.slice(6)}`;
    expect(await sealer.open('flow', [format, key, nonce, flipped].join('.'))).toBeUndefined();
    expect(await sealer.open('flow', undefined)).toBeUndefined();
    expect(await sealer.open('flow', 'v1.x.y')).toBeUndefined();
    expect(await new Sealer(`${SECRET}-other`).open('flow', sealed)).toBeUndefined();
  });

  it('rotates: the first secret seals, every listed secret opens', async () => {
    const old = new Sealer(SECRET);
    const sealedByOld = await old.seal('flow', 1);
    const rotated = new Sealer([`${SECRET}-new`, SECRET]);
    expect(await rotated.open('flow', sealedByOld)).toBe(1);
    expect(await old.open('flow', await rotated.seal('flow', 2))).toBeUndefined();
  });

  it('uses a keyring (the encrypted store’s) as key source', async () => {
    const key = (id: string, byte: number) => ({ id, key: new Uint8Array(32).fill(byte) });
    const sealer = new Sealer(new Keyring([key('2026-11', 1), key('2026-05', 2)]));
    const sealed = await sealer.seal('flow', 'x');
    expect(sealed).toContain('.k2026-11.');
    expect(await new Sealer(new Keyring([key('2027-01', 3), key('2026-11', 1)])).open('flow', sealed)).toBe(
      'x',
    );
    expect(await new Sealer(new Keyring([key('2026-11', 9)])).open('flow', sealed)).toBeUndefined();
  });

  it('tags deterministically and verifies in constant time', async () => {
    const sealer = new Sealer(SECRET);
    const tag = await sealer.tag('csrf', 'id.nonce');
    expect(await sealer.tag('csrf', 'id.nonce')).toBe(tag);
    expect(await sealer.verifyTag('csrf', 'id.nonce', tag)).toBe(true);
    expect(await sealer.verifyTag('csrf', 'id.other', tag)).toBe(false);
    expect(await sealer.verifyTag('other', 'id.nonce', tag)).toBe(false);
    expect(await sealer.verifyTag('csrf', 'id.nonce', 'x'.repeat(50))).toBe(false);
    expect(await sealer.verifyTag('csrf', 'id.nonce', undefined)).toBe(false);
  });

  it('refuses a missing or short secret, naming the option; never shows key material', () => {
    expect(() => new Sealer(undefined)).toThrow(ConfigurationError);
    expect(() => new Sealer(undefined)).toThrow('serverSecret is required');
    expect(() => new Sealer('short')).toThrow('serverSecret must be at least 32 characters');
    expect(() => new Sealer([SECRET, 'short'], 'secret')).toThrow('secret[1] must be at least 32');
    const sealer = new Sealer(SECRET);
    expect(inspect(sealer, { showHidden: true, depth: 5 })).not.toContain(SECRET);
    expect(JSON.stringify(sealer)).toBe('{"sealer":true}');
  });
});
