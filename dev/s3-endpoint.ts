/**
 * A real S3 HTTP endpoint for tests: fauxqs (an in-memory SNS/SQS/S3 emulator) built in-process with
 * `buildApp()` and listening on 127.0.0.1 only. Not published (users do not need it): the tests, the
 * examples, the demo and the benchmark share it from `dev/`.
 *
 * Filling a gap of the emulator: no local S3 server implements conditional writes, so this file adds
 * them in a Fastify preHandler with AWS's semantics:
 *
 * - PUT with `If-None-Match: *` on an existing key: 412 PreconditionFailed;
 * - PUT or DELETE with `If-Match` on a missing key: 404 NoSuchKey;
 * - PUT or DELETE with `If-Match: <etag>` that differs from the current ETag: 412 PreconditionFailed
 *   (`If-Match: *` matches any existing object).
 *
 * Writes to one key are serialised (the lock is taken in preHandler and released when the response
 * is sent), so the precondition check and the write are atomic, as they are on S3. S3's 409
 * ConditionalRequestConflict for overlapping conditional writes is not reproduced here; the
 * aws-sdk-client-mock tests cover it.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { buildApp } from 'fauxqs';

export const S3_TEST_CREDENTIALS = {
  accessKeyId: 'test-access-key',
  secretAccessKey: 'test-secret-key-DO-NOT-LEAK',
};

export interface S3TestEndpoint {
  endpoint: string;
  close(): Promise<void>;
}

const PRECONDITION_FAILED = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-Match</Condition></Error>`;
const NO_SUCH_KEY = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`;

const releases = new WeakMap<FastifyRequest, () => void>();

function installConditionalWrites(app: FastifyInstance): void {
  const tails = new Map<string, Promise<void>>();

  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'PUT' && request.method !== 'DELETE') return;
    const params = request.params as { bucket?: string; '*'?: string };
    const key = params['*'];
    if (!params.bucket || !key) return;
    const query = request.query as Record<string, string | undefined>;
    if (query.uploadId !== undefined || query.partNumber !== undefined) return;

    const lockKey = `${params.bucket}/${key}`;
    const previous = tails.get(lockKey) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    tails.set(lockKey, tail);
    releases.set(request, () => {
      release();
      if (tails.get(lockKey) === tail) tails.delete(lockKey);
    });
    await previous;

    const ifMatch = request.headers['if-match'];
    const ifNoneMatch = request.headers['if-none-match'];
    if (ifMatch === undefined && ifNoneMatch === undefined) return;
    const path = `/${encodeURIComponent(params.bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const head = await app.inject({ method: 'HEAD', url: path });
    const exists = head.statusCode === 200;
    const etag = head.headers.etag;

    const fail = (status: number, body: string) =>
      reply.code(status).header('content-type', 'application/xml').send(body);
    if (request.method === 'PUT' && ifNoneMatch === '*' && exists) return fail(412, PRECONDITION_FAILED);
    if (ifMatch !== undefined) {
      if (!exists) return fail(404, NO_SUCH_KEY);
      if (ifMatch !== '*' && ifMatch !== etag) return fail(412, PRECONDITION_FAILED);
    }
    return undefined;
  });

  const done = async (request: FastifyRequest) => {
    releases.get(request)?.();
    releases.delete(request);
  };
  app.addHook('onResponse', done);
  app.addHook('onRequestAbort', done);
}

/** Starts fauxqs on 127.0.0.1 with conditional writes; resolves its endpoint URL. */
export async function startS3Endpoint(): Promise<S3TestEndpoint> {
  const app = buildApp({ logger: false, host: '127.0.0.1' }) as unknown as FastifyInstance;
  installConditionalWrites(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('fauxqs did not bind a TCP port');
  return { endpoint: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

/** A client for the test endpoint (path-style, static test credentials, fast failure). */
export function testS3Client(endpoint: string, overrides: { maxAttempts?: number } = {}): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: S3_TEST_CREDENTIALS,
    maxAttempts: overrides.maxAttempts ?? 2,
  });
}
