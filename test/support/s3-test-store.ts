import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { testS3Client } from '../../dev/s3-endpoint.js';
import { S3CredentialStore, type S3CredentialStoreOptions } from '../../src/s3/index.js';

/** The endpoint started by the global setup. */
export function s3Endpoint(): string {
  return inject('s3Endpoint');
}

const created = new Set<string>();

/** Creates (once) and returns a bucket on the test endpoint. */
export async function ensureBucket(client: S3Client, bucket: string): Promise<string> {
  if (!created.has(bucket)) {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    created.add(bucket);
  }
  return bucket;
}

/** A store on a fresh prefix of the shared test bucket. */
export async function freshS3Store(
  options: Partial<S3CredentialStoreOptions> = {},
): Promise<{ store: S3CredentialStore; client: S3Client; bucket: string; prefix: string }> {
  const client = testS3Client(s3Endpoint());
  const bucket = await ensureBucket(client, 'credentials-test');
  const prefix = `run-${randomBytes(6).toString('hex')}/`;
  const store = new S3CredentialStore({ client, bucket, prefix, ...options });
  return { store, client, bucket, prefix };
}
