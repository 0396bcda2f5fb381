/**
 * The OpenTelemetry instrumentation with the SDK's in-memory readers and exporters: store
 * operations, refreshes by outcome, sign-ins, sign-outs, revocations, reauth, active sessions and
 * handler spans, from a real sign-in and refresh against the local provider. No token in any
 * attribute; the user id only on spans, and only when asked for.
 */
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCredentialStore } from '../../src/index.js';
import { CredentialManager } from '../../src/manager/index.js';
import { ATTRIBUTES, createTelemetry, METRICS } from '../../src/otel/index.js';
import { OAuth21SessionStore } from '../../src/session/index.js';
import { type GoogleLikeProvider, startGoogleLikeProvider } from '../../src/testing/index.js';
import { FakeClock } from '../support/clock.js';
import { authorizationCode, REDIRECT_URI, setStoredExpiry } from '../support/oauth.js';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

interface Point {
  name: string;
  attributes: Record<string, unknown>;
  value: unknown;
}

async function points(reader: TestReader): Promise<Point[]> {
  const { resourceMetrics } = await reader.collect();
  const out: Point[] = [];
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      for (const point of metric.dataPoints) {
        out.push({ name: metric.descriptor.name, attributes: point.attributes, value: point.value });
      }
    }
  }
  return out;
}

const sum = (all: Point[], name: string, attributes: Record<string, unknown> = {}) =>
  all
    .filter((p) => p.name === name && Object.entries(attributes).every(([k, v]) => p.attributes[k] === v))
    .reduce(
      (total, p) => total + (typeof p.value === 'number' ? p.value : (p.value as { count: number }).count),
      0,
    );

let provider: GoogleLikeProvider;
beforeAll(async () => {
  provider = await startGoogleLikeProvider();
});
afterAll(() => provider.close());

async function setup(recordUserIds: boolean) {
  const reader = new TestReader();
  const spans = new InMemorySpanExporter();
  const telemetry = createTelemetry({
    meterProvider: new MeterProvider({ readers: [reader] }),
    tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
    recordUserIds,
  });
  const clock = new FakeClock(Date.now());
  const store = telemetry.store(new MemoryCredentialStore());
  const sessionStore = new OAuth21SessionStore({ clock });
  telemetry.sessions(sessionStore);
  const manager = new CredentialManager({
    store,
    sessionStore,
    clock,
    oauth: provider.oauthOptions(REDIRECT_URI),
    retry: { attempts: 1 },
    invalidGrantGraceMs: 0,
  });
  telemetry.manager(manager);
  return { reader, spans, telemetry, store, sessionStore, manager, clock };
}

describe('createTelemetry', () => {
  it('measures and traces a sign-in, a refresh, a dead refresh token and a revoke', async () => {
    const { reader, spans, store, sessionStore, manager, clock } = await setup(false);
    const secrets: string[] = [provider.clientSecret];
    for (const user of ['alice@example.com', 'bob@example.com']) {
      const { code, codeVerifier } = await authorizationCode(provider, user);
      await manager.completeAuthorization({ code, codeVerifier, redirectUri: REDIRECT_URI });
      await sessionStore.storeSession(user);
      const stored = (await store.get(user))!.credentials;
      secrets.push(stored.accessToken, stored.refreshToken!, stored.idToken!, code, codeVerifier);
    }
    await setStoredExpiry(store, 'alice@example.com', clock.now() - 1);
    await setStoredExpiry(store, 'bob@example.com', clock.now() - 1);
    clock.advance(3_600_000); // the in-memory copies expired too: the store is read before answering
    const refreshed = await manager.getValidCredentials('alice@example.com');
    secrets.push(refreshed.accessToken);
    provider.revokeGrantsOf('bob@example.com');
    await expect(manager.getValidCredentials('bob@example.com')).rejects.toMatchObject({
      code: 'REAUTH_REQUIRED',
    });
    await manager.revoke('alice@example.com');

    const all = await points(reader);
    expect(sum(all, METRICS.signIns)).toBe(2);
    expect(sum(all, METRICS.refreshes, { [ATTRIBUTES.outcome]: 'refreshed' })).toBe(1);
    expect(sum(all, METRICS.refreshes, { [ATTRIBUTES.outcome]: 'reauth_required' })).toBe(1);
    expect(sum(all, METRICS.reauthRequired, { [ATTRIBUTES.reason]: 'invalid_grant' })).toBe(1);
    expect(sum(all, METRICS.revocations)).toBe(1);
    expect(sum(all, METRICS.signOuts)).toBe(2); // bob's dead token, alice's revoke
    expect(sum(all, METRICS.activeSessions)).toBe(0);
    expect(
      sum(all, METRICS.storeDuration, { [ATTRIBUTES.store]: 'memory', [ATTRIBUTES.operation]: 'put' }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      sum(all, METRICS.storeDuration, { [ATTRIBUTES.operation]: 'get', [ATTRIBUTES.outcome]: 'ok' }),
    ).toBeGreaterThan(0);
    expect(
      sum(all, METRICS.storeDuration, { [ATTRIBUTES.operation]: 'delete', [ATTRIBUTES.outcome]: 'ok' }),
    ).toBe(2);

    const finished = spans.getFinishedSpans();
    const names = new Set(finished.map((span) => span.name));
    for (const name of [
      'mcp_oauth.store.get',
      'mcp_oauth.store.put',
      'mcp_oauth.refresh',
      'mcp_oauth.code_exchange',
      'mcp_oauth.revoke',
    ]) {
      expect(names, name).toContain(name);
    }
    const failedRefresh = finished.find(
      (span) =>
        span.name === 'mcp_oauth.refresh' && span.attributes[ATTRIBUTES.outcome] === 'reauth_required',
    );
    expect(failedRefresh?.status.code).toBe(2); // ERROR
    const exported = JSON.stringify([all, finished.map((span) => [span.name, span.attributes])]);
    for (const secret of secrets) expect(exported).not.toContain(secret);
    expect(exported).not.toContain('@example.com'); // no user ids unless asked for
  });

  it('puts user ids on spans (never on metrics) only with recordUserIds', async () => {
    const { reader, spans, store } = await setup(true);
    await store.get('carol@example.com');
    const span = spans.getFinishedSpans().find((s) => s.name === 'mcp_oauth.store.get');
    expect(span?.attributes[ATTRIBUTES.userId]).toBe('carol@example.com');
    expect(JSON.stringify(await points(reader))).not.toContain('carol@example.com');
  });

  it('traces a handler with its status, and counts active sessions', async () => {
    const { reader, spans, telemetry, sessionStore } = await setup(false);
    await sessionStore.storeSession('dave@example.com');
    const handler = telemetry.handler('status', async (request: Request) =>
      request.url.endsWith('/boom') ? new Response('', { status: 503 }) : new Response('ok'),
    );
    expect((await handler(new Request('http://x/ok')))!.status).toBe(200);
    expect((await handler(new Request('http://x/boom')))!.status).toBe(503);
    const handled = spans.getFinishedSpans().filter((span) => span.name === 'mcp_oauth.http status');
    expect(handled.map((span) => span.attributes[ATTRIBUTES.httpStatus])).toEqual([200, 503]);
    expect(handled[1]!.status.code).toBe(2);
    const all = await points(reader);
    expect(sum(all, METRICS.activeSessions)).toBe(1);
    expect(sum(all, METRICS.handlerDuration, { [ATTRIBUTES.httpStatus]: 503 })).toBe(1);
  });

  it('keeps the wrapped store a correct store (store errors pass through; list is timed once)', async () => {
    const { reader, store } = await setup(false);
    await expect(store.get('not an email')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const listed: string[] = [];
    for await (const id of store.list()) listed.push(id);
    expect(listed).toEqual([]);
    const all = await points(reader);
    expect(sum(all, METRICS.storeDuration, { [ATTRIBUTES.operation]: 'list' })).toBe(1);
    expect(
      sum(all, METRICS.storeDuration, {
        [ATTRIBUTES.outcome]: 'error',
        [ATTRIBUTES.errorType]: 'INVALID_INPUT',
      }),
    ).toBe(1);
  });
});
