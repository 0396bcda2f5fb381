import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { CredentialManager } from '../../src/manager/index.js';
import {
  type CredentialManagerOptions,
  DEFAULT_CREDENTIALS_CACHE_SIZE,
  DEFAULT_REFRESH_SKEW_MS,
  DEFAULT_RETRY_ATTEMPTS,
  GOOGLE_ISSUERS,
  resolveManagerOptions,
} from '../../src/refresh/options.js';
import { MemoryCredentialStore } from '../../src/stores/memory.js';

const base: CredentialManagerOptions = {
  store: new MemoryCredentialStore(),
  oauth: { clientId: 'client', clientSecret: 'secret' },
};

describe('resolveManagerOptions', () => {
  it('applies the exported defaults', () => {
    const resolved = resolveManagerOptions(base);
    expect(resolved).toMatchObject({
      refreshSkewMs: DEFAULT_REFRESH_SKEW_MS,
      credentialsCacheSize: DEFAULT_CREDENTIALS_CACHE_SIZE,
      issuers: GOOGLE_ISSUERS,
      retry: { attempts: DEFAULT_RETRY_ATTEMPTS, baseDelayMs: 250, maxDelayMs: 5_000 },
      maxConflictRetries: 3,
      invalidGrantGraceMs: 2_000,
      credentialsCacheTtlMs: 60_000,
      serviceCacheMax: 1_000,
      serviceCacheTtlMs: 1_800_000,
      requestTimeoutMs: 10_000,
      maxConcurrentRefreshes: 10,
    });
  });

  it('keeps zero where zero means "off" (no skew, no grace, no conflict retries, no cache lifetime)', () => {
    expect(
      resolveManagerOptions({
        ...base,
        refreshSkewMs: 0,
        invalidGrantGraceMs: 0,
        maxConflictRetries: 0,
        credentialsCacheTtlMs: 0,
        retry: { baseDelayMs: 0, maxDelayMs: 0 },
      }),
    ).toMatchObject({
      refreshSkewMs: 0,
      invalidGrantGraceMs: 0,
      maxConflictRetries: 0,
      credentialsCacheTtlMs: 0,
    });
  });

  it.each<[string, Partial<CredentialManagerOptions>]>([
    ['refreshSkewMs', { refreshSkewMs: Number.NaN }],
    ['refreshSkewMs', { refreshSkewMs: -1 }],
    ['retry.attempts', { retry: { attempts: 0 } }],
    ['retry.attempts', { retry: { attempts: 2.5 } }],
    ['retry.baseDelayMs', { retry: { baseDelayMs: -5 } }],
    ['retry.maxDelayMs', { retry: { baseDelayMs: 1_000, maxDelayMs: 10 } }],
    ['maxConcurrentRefreshes', { maxConcurrentRefreshes: 0 }],
    ['maxConflictRetries', { maxConflictRetries: -1 }],
    ['invalidGrantGraceMs', { invalidGrantGraceMs: Number.POSITIVE_INFINITY }],
    ['credentialsCacheSize', { credentialsCacheSize: 0 }],
    ['credentialsCacheTtlMs', { credentialsCacheTtlMs: Number.NaN }],
    ['serviceCache.max', { serviceCache: { max: 0 } }],
    ['serviceCache.ttlMs', { serviceCache: { ttlMs: 0 } }],
    ['oauth.requestTimeoutMs', { oauth: { clientId: 'c', clientSecret: 's', requestTimeoutMs: 0 } }],
    ['oauth.issuers', { oauth: { clientId: 'c', clientSecret: 's', issuers: [] } }],
    ['oauth.issuers', { oauth: { clientId: 'c', clientSecret: 's', issuers: ['https://ok', 7 as never] } }],
    ['oauth.issuers', { oauth: { clientId: 'c', clientSecret: 's', issuers: 'https://ok' as never } }],
  ])('the constructor refuses a bad %s with a ConfigurationError naming it', (name, bad) => {
    const make = () => new CredentialManager({ ...base, ...bad });
    expect(make).toThrow(ConfigurationError);
    expect(make).toThrow(name);
  });

  it('refuses a missing store or OAuth client', () => {
    expect(() => new CredentialManager({ ...base, store: undefined as never })).toThrow('needs a store');
    expect(() => new CredentialManager(undefined as never)).toThrow(ConfigurationError);
    expect(() => new CredentialManager({ store: base.store } as never)).toThrow(ConfigurationError);
    expect(() => new CredentialManager({ ...base, oauth: { clientId: 'c', clientSecret: '' } })).toThrow(
      'needs oauth.clientId and oauth.clientSecret',
    );
  });
});
