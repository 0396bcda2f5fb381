/**
 * What an HTTP client sees when storage refuses or fails: a generic 503, never the bucket, the
 * path, the user or an IAM hint (those go to the operator's log). Before, S3's AccessDenied reached
 * the browser as `403 {"error":"access_denied","error_description":"S3 denied get for … on s3://bucket/…"}`.
 */
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3_TEST_CREDENTIALS } from '../../dev/s3-endpoint.js';
import { type ExampleServer, startExampleServer } from '../../examples/express/server.js';
import { HTTP_STATUS_BY_CODE } from '../../src/http/index.js';
import { S3CredentialStore } from '../../src/s3/index.js';
import { TestBrowser } from '../../src/testing/browser.js';
import { type GoogleLikeProvider, startGoogleLikeProvider } from '../../src/testing/index.js';

describe('storage failures as HTTP clients see them', () => {
  const client = new S3Client({ region: 'us-east-1', credentials: S3_TEST_CREDENTIALS });
  const s3 = mockClient(client);
  let provider: GoogleLikeProvider;
  let server: ExampleServer;
  beforeAll(async () => {
    provider = await startGoogleLikeProvider();
    server = await startExampleServer({
      ...provider.clientSettings(),
      port: 0,
      store: new S3CredentialStore({ client, location: 's3://corp-secrets-prod/mcp/' }),
      serverSecret: randomBytes(32).toString('base64url'),
    });
  });
  afterAll(async () => {
    await server.close();
    await provider.close();
    s3.restore();
  });

  async function signIn(user: string): Promise<{ status: number; body: string }> {
    provider.setDefaultUser(user);
    const { page } = await new TestBrowser().navigate(`${server.url}/auth/start`, () => false, {
      headers: { accept: 'application/json' },
    });
    return { status: page!.status, body: page!.html };
  }

  it('answers S3 AccessDenied with a generic 503: no bucket, prefix, user or hint', async () => {
    s3.reset();
    s3.on(GetObjectCommand).rejects(
      Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }),
    );
    const { status, body } = await signIn('denied@example.com');
    expect(status).toBe(503);
    expect(JSON.parse(body)).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'the service is temporarily unavailable; try again shortly',
    });
    for (const leak of ['corp-secrets-prod', 'mcp/', 'denied@example.com', 's3:', 'grant']) {
      expect(body).not.toContain(leak);
    }
  });

  it('answers an S3 outage the same way', async () => {
    s3.reset();
    s3.on(GetObjectCommand).rejects(
      Object.assign(new Error('slow down'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }),
    );
    const { status, body } = await signIn('outage@example.com');
    expect(status).toBe(503);
    expect(body).not.toContain('corp-secrets-prod');
  });

  it('maps every error code to a status (a new code cannot be forgotten)', () => {
    expect(HTTP_STATUS_BY_CODE.STORAGE_FORBIDDEN).toBe(503);
    expect(HTTP_STATUS_BY_CODE.ACCESS_DENIED).toBe(403);
    expect(Object.values(HTTP_STATUS_BY_CODE).every((status) => status >= 400 && status < 600)).toBe(true);
  });
});
