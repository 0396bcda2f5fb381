/**
 * {@link startTlsServer}: a small HTTPS server on 127.0.0.1 with a throwaway self-signed certificate
 * (made by the machine's `openssl`), for tests of what only speaks https: Client ID Metadata
 * Documents, which both official MCP clients accept only as an `https` URL with a path. Its `agent`
 * trusts the certificate; pass it to `clientMetadataDocuments.agent` with `allowAddress` opened for
 * 127.0.0.1.
 *
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether `openssl` is on the PATH (needed to make the self-signed certificate). */
export function opensslAvailable(): boolean {
  return spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;
}

/** A certificate for 127.0.0.1 and localhost, valid for a day. */
export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mcpoc-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A request handler of {@link TlsServer}. */
export type Route = (request: IncomingMessage, response: ServerResponse) => void;

/** A local HTTPS server (see {@link startTlsServer}). */
export interface TlsServer {
  /** `https://127.0.0.1:<port>` */
  origin: string;
  port: number;
  /** An agent that trusts this server's certificate (and nothing else). */
  agent: Agent;
  /** Serves `path` with `route` (replacing any route there). */
  route(path: string, route: Route): void;
  /** Serves `path` as a JSON document with these headers. */
  json(path: string, document: unknown, headers?: Record<string, string>): void;
  /** Requests per path. */
  hits: Map<string, number>;
  /** Stops the server. */
  close(): Promise<void>;
}

/**
 * Starts an HTTPS server on 127.0.0.1 with a fresh self-signed certificate (for Client ID Metadata
 * Document tests: the package fetches only `https` documents).
 */
export async function startTlsServer(): Promise<TlsServer> {
  const { key, cert } = selfSignedCertificate();
  const routes = new Map<string, Route>();
  const hits = new Map<string, number>();
  const server: Server = createServer({ key, cert }, (request, response) => {
    const path = new URL(request.url ?? '/', 'https://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes.get(path);
    if (!route) {
      response.writeHead(404).end();
      return;
    }
    route(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const agent = new Agent({ ca: cert, keepAlive: false });
  return {
    origin: `https://127.0.0.1:${port}`,
    port,
    agent,
    hits,
    route: (path, route) => routes.set(path, route),
    json(path, document, headers = {}) {
      routes.set(path, (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json', ...headers });
        response.end(JSON.stringify(document));
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
