/**
 * Whole-store snapshots for `export` / `import`: JSON lines, every record sealed with the keyring's
 * primary key (the same envelope as `EncryptedCredentialStore`), streamed to a file or to S3 with
 * `@aws-sdk/lib-storage`'s `Upload` (multipart for large stores).
 *
 * Format (version 2): a header line `{"format":"mcp-oauth-credentials-snapshot","version":2,...}`, one
 * `{"user":"...","record":{...sealed StoredCredentials...}}` per user, and a trailer line
 * `{"trailer":true,"count":N,"digest":"sha256:<hex>"}` whose digest covers every record line (and
 * its newline) in order, so a truncated, extended or reordered snapshot is detected. Version 1
 * snapshots (before trailers) are read with `--allow-partial`.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, rename, unlink } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { PassThrough, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ConfigurationError, CorruptCredentialsError, InvalidInputError } from '../errors.js';
import { isMissingPackage, loadS3Store } from '../stores/load-store-module.js';
import { parseS3Location, type S3StoreSettings } from '../stores/s3-settings.js';

/** The header line of a snapshot. */
export interface SnapshotHeader {
  format: 'mcp-oauth-credentials-snapshot';
  /** 2 (with a trailer); 1 for snapshots written before trailers. */
  version: 1 | 2;
  createdAt: string;
  keyId: string;
}

/** The last line of a version 2 snapshot. */
export interface SnapshotTrailer {
  trailer: true;
  count: number;
  /** `sha256:` and the hex SHA-256 of every record line followed by a newline, in order. */
  digest: string;
}

/** Accumulates the digest of record lines as they are written or read. */
export class SnapshotDigest {
  readonly #hash = createHash('sha256');
  count = 0;

  add(line: string): void {
    this.#hash.update(`${line}\n`);
    this.count += 1;
  }

  trailer(): SnapshotTrailer {
    return { trailer: true, count: this.count, digest: `sha256:${this.#hash.copy().digest('hex')}` };
  }
}

/** Parses a trailer line; undefined when the line is not one. */
export function parseSnapshotTrailer(line: string): SnapshotTrailer | undefined {
  try {
    const value = JSON.parse(line) as Partial<SnapshotTrailer>;
    return value.trailer === true && typeof value.count === 'number' && typeof value.digest === 'string'
      ? (value as SnapshotTrailer)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The `format` field of a snapshot's header line. */
export const SNAPSHOT_FORMAT = 'mcp-oauth-credentials-snapshot';

/** A sink for snapshot lines; `close()` resolves once everything is durably written. */
export interface SnapshotWriter {
  write(line: string): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

type S3ClientSettings = Omit<S3StoreSettings, 'logger' | 'onOperation'>;

async function s3Client(settings: S3ClientSettings) {
  const { createS3Client } = await loadS3Store();
  return createS3Client({ ...settings, requestTimeoutMs: settings.requestTimeoutMs ?? 30_000 });
}

function parseObjectLocation(target: string): { bucket: string; key: string } {
  const { bucket, prefix } = parseS3Location(target);
  const key = prefix.replace(/\/$/, '');
  if (key === '')
    throw new InvalidInputError('an S3 snapshot location needs a key: s3://bucket/path/snapshot.jsonl');
  return { bucket, key };
}

/** Opens a snapshot destination: a file path (written 0600 via a temporary file) or `s3://bucket/key`. */
export async function openSnapshotWriter(
  target: string,
  settings: S3ClientSettings & { partSizeBytes?: number },
): Promise<SnapshotWriter> {
  if (/^s3:\/\//i.test(target)) {
    const { bucket, key } = parseObjectLocation(target);
    let Upload: typeof import('@aws-sdk/lib-storage').Upload;
    const client = await s3Client(settings);
    try {
      ({ Upload } = await import('@aws-sdk/lib-storage'));
    } catch (error) {
      if (!isMissingPackage(error, '@aws-sdk/lib-storage')) throw error;
      throw new ConfigurationError(
        'exporting to S3 needs the optional peer dependency @aws-sdk/lib-storage',
        {
          hint: 'npm install @aws-sdk/lib-storage',
        },
      );
    }
    const body = new PassThrough();
    const upload = new Upload({
      client,
      params: {
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: 'application/x-ndjson',
        ServerSideEncryption: settings.serverSideEncryption ?? 'AES256',
        ...(settings.kmsKeyId === undefined ? {} : { SSEKMSKeyId: settings.kmsKeyId }),
      },
      partSize: Math.max(5 * 1024 * 1024, settings.partSizeBytes ?? 8 * 1024 * 1024),
      queueSize: 4,
      leavePartsOnError: false,
    });
    const done = upload.done();
    done.catch(() => {});
    return {
      write: (line) =>
        new Promise<void>((resolve) => {
          if (body.write(`${line}\n`)) resolve();
          else body.once('drain', () => resolve());
        }),
      close: async () => {
        body.end();
        await done;
      },
      abort: async () => {
        await upload.abort().catch(() => {});
        body.destroy();
      },
    };
  }
  const temporary = `${target}.${process.pid}.partial`;
  const stream = createWriteStream(temporary, { mode: 0o600, flags: 'w' });
  return {
    write: (line) =>
      new Promise<void>((resolve, reject) => {
        stream.write(`${line}\n`, (error) => (error ? reject(error) : resolve()));
      }),
    close: async () => {
      stream.end();
      await finished(stream);
      await rename(temporary, target);
    },
    abort: async () => {
      stream.destroy();
      await unlink(temporary).catch(() => {});
    },
  };
}

/** Reads a snapshot source line by line: a file path or `s3://bucket/key`. */
export async function* readSnapshotLines(source: string, settings: S3ClientSettings): AsyncIterable<string> {
  let input: Readable;
  if (/^s3:\/\//i.test(source)) {
    const { bucket, key } = parseObjectLocation(source);
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    const response = await (await s3Client(settings)).send(
      new GetObjectCommand({ Bucket: bucket, Key: key }),
    );
    input = response.Body as Readable;
  } else {
    input = createReadStream(source, { encoding: 'utf8' });
  }
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) if (line.trim() !== '') yield line;
}

/** Checks a snapshot's header line. */
export function parseSnapshotHeader(line: string | undefined): SnapshotHeader {
  let header: Partial<SnapshotHeader> | undefined;
  try {
    header = line === undefined ? undefined : (JSON.parse(line) as Partial<SnapshotHeader>);
  } catch {
    header = undefined;
  }
  if (
    header?.format !== SNAPSHOT_FORMAT ||
    (header.version !== 1 && header.version !== 2) ||
    typeof header.keyId !== 'string'
  ) {
    throw new CorruptCredentialsError('this is not an mcp-oauth-credentials snapshot');
  }
  return header as SnapshotHeader;
}

/** Whether a snapshot already exists at `target` (a file, or an S3 object). */
export async function snapshotExists(target: string, settings: S3ClientSettings): Promise<boolean> {
  if (/^s3:\/\//i.test(target)) {
    const { bucket, key } = parseObjectLocation(target);
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    try {
      await (await s3Client(settings)).send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (error as { name?: string }).name === 'NotFound') return false;
      throw error;
    }
  }
  try {
    await access(target);
    return true;
  } catch {
    return false;
  }
}
