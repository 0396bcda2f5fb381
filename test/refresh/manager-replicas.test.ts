/**
 * Two managers with separate store instances over one shared storage (a file directory; an S3
 * endpoint; a PostgreSQL database; a DynamoDB table) race to refresh one expired user, with a provider that rotates refresh tokens and kills
 * the old one on use. Whatever the interleaving, no refresh token is lost and both end with the
 * winner's token.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testS3Client } from '../../dev/s3-endpoint.js';
import { DynamoCredentialStore } from '../../src/dynamodb/index.js';
import { type CredentialStore, FileCredentialStore } from '../../src/index.js';
import { CredentialManager } from '../../src/manager/index.js';
import { PostgresCredentialStore } from '../../src/postgres/index.js';
import { S3CredentialStore } from '../../src/s3/index.js';
import { type GoogleLikeProvider, startGoogleLikeProvider } from '../../src/testing/index.js';
import { FakeClock } from '../support/clock.js';
import { dynamoEngines, freshDynamoStore, testDynamoClient } from '../support/dynamo-test-store.js';
import { REDIRECT_URI, setStoredExpiry, signIn } from '../support/oauth.js';
import { freshTable, postgresEngines, sharedPool, testPool } from '../support/postgres-test-pool.js';
import { ensureBucket, freshS3Store, s3Endpoint } from '../support/s3-test-store.js';
import { makeTempDir } from '../support/temp-dir.js';

let provider: GoogleLikeProvider;
beforeAll(async () => {
  provider = await startGoogleLikeProvider({ rotateRefreshTokens: true });
});
afterAll(() => provider.close());

function managerOn(store: CredentialStore, clock: FakeClock): CredentialManager {
  return new CredentialManager({
    store,
    clock,
    oauth: {
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      redirectUri: REDIRECT_URI,
      endpoints: provider.endpoints,
      issuers: [provider.issuer],
    },
    retry: { attempts: 2, baseDelayMs: 1 },
    invalidGrantGraceMs: 500,
  });
}

/**
 * Eight rounds of two replicas refreshing one expired user at once. Asserts that no refresh token is
 * lost and that the race really happened: in some round both replicas reached the provider and one
 * of them lost (a conflict on save, or the rotated-away token refused), so the loser's path ran.
 */
async function race(makeStore: () => CredentialStore, label: string): Promise<{ tokenRequests: number[] }> {
  const clock = new FakeClock(Date.now());
  const setupStore = makeStore();
  const userId = `race-${label}@example.com`;
  await signIn(managerOn(setupStore, clock), provider, userId, { prompt: 'consent' });
  const tokenRequests: number[] = [];
  let contestedRounds = 0;
  for (let round = 0; round < 8; round++) {
    await setStoredExpiry(setupStore, userId, clock.now() - 1);
    const a = managerOn(makeStore(), clock);
    const b = managerOn(makeStore(), clock);
    let lost = false;
    for (const replica of [a, b]) {
      replica.on('refresh-conflict', () => {
        lost = true;
      });
      replica.on('refresh-failed', ({ providerCode }) => {
        if (providerCode === 'invalid_grant') lost = true;
      });
    }
    provider.resetCounters();
    provider.setTokenLatency(round % 2 === 0 ? 0 : 15 + round * 5);
    const [fromA, fromB] = await Promise.all([a.getValidCredentials(userId), b.getValidCredentials(userId)]);
    const stored = (await setupStore.get(userId))!.credentials;
    expect(fromA.accessToken, `round ${round}`).toBe(stored.accessToken);
    expect(fromB.accessToken, `round ${round}`).toBe(stored.accessToken);
    expect(
      provider.isRefreshTokenLive(stored.refreshToken!),
      `round ${round}: the stored refresh token works`,
    ).toBe(true);
    expect(provider.counters.refreshRequests).toBeGreaterThanOrEqual(1);
    expect(provider.counters.refreshRequests).toBeLessThanOrEqual(2);
    tokenRequests.push(provider.counters.refreshRequests);
    if (lost) contestedRounds++;
  }
  provider.setTokenLatency(0);
  expect(tokenRequests, 'rounds in which both replicas reached the provider').toContain(2);
  expect(
    contestedRounds,
    'rounds in which one replica lost the race and took the winner’s token',
  ).toBeGreaterThan(0);
  return { tokenRequests };
}

describe('refresh races between replicas sharing a store (rotating provider)', () => {
  it('on one file directory: no refresh token lost, both replicas end with the winner’s token', async () => {
    const dir = await makeTempDir();
    try {
      await race(() => new FileCredentialStore({ directory: dir.path }), 'file');
    } finally {
      await dir.dispose();
    }
  }, 60_000);

  it('on one S3 endpoint: no refresh token lost, both replicas end with the winner’s token', async () => {
    const { bucket, prefix } = await freshS3Store();
    await race(() => new S3CredentialStore({ client: testS3Client(s3Endpoint()), bucket, prefix }), 's3');
  }, 60_000);

  const moto = inject('motoEndpoint');
  it.skipIf(!moto)(
    `on one S3 bucket of moto's server${moto ? '' : ` (skipped: ${inject('motoSkipReason')})`}: no refresh token lost`,
    async () => {
      const client = testS3Client(moto);
      const bucket = await ensureBucket(client, 'replicas-moto');
      const prefix = `race-${Date.now().toString(36)}/`;
      await race(() => new S3CredentialStore({ client: testS3Client(moto), bucket, prefix }), 's3-moto');
    },
    60_000,
  );

  for (const engine of postgresEngines()) {
    it.skipIf(!engine.url)(
      `on one PostgreSQL database (${engine.name}${engine.url ? '' : `, skipped: ${engine.skipReason}`}): no refresh token lost`,
      async () => {
        const table = freshTable('replicas');
        await new PostgresCredentialStore({ pool: sharedPool(engine.url), table }).ensureSchema();
        // Each replica with a pool of its own, as separate server processes would have.
        await race(
          () => new PostgresCredentialStore({ pool: testPool(engine.url, 2), table }),
          `pg-${engine.name.replace(/\W+/g, '-').toLowerCase()}`,
        );
      },
      60_000,
    );
  }

  for (const engine of dynamoEngines()) {
    it.skipIf(!engine.endpoint)(
      `on one DynamoDB table (${engine.name}${engine.endpoint ? '' : `, skipped: ${engine.skipReason}`}): no refresh token lost`,
      async () => {
        const { table } = await freshDynamoStore(engine.endpoint);
        await race(
          () => new DynamoCredentialStore({ client: testDynamoClient(engine.endpoint), table }),
          `dynamo-${engine.name}`,
        );
      },
      60_000,
    );
  }
});
