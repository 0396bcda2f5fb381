/**
 * {@link createTelemetry}: OpenTelemetry metrics and spans for the package's components, through
 * `@opentelemetry/api` only (your SDK and exporters decide where they go). Opt-in and outside the
 * components: a store is wrapped, the manager's events are subscribed to, the session store's
 * sign-out methods are wrapped; nothing changes for code that does not call it.
 *
 * Never a token or secret in an attribute; the user id only with `recordUserIds: true`.
 *
 * @module
 */
import {
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { isCredentialError } from '../errors.js';
import type { CredentialManager } from '../refresh/manager.js';
import type { OAuth21SessionStore } from '../session/session-store.js';
import { observeStore } from '../stores/observe.js';
import type { CredentialStore } from '../stores/types.js';

/** The instrumentation scope name of every meter and tracer. */
export const INSTRUMENTATION_SCOPE = 'mcp-oauth-credentials';

/** Metric names (units: seconds for durations, counts otherwise). */
export const METRICS = {
  storeDuration: 'mcp_oauth.store.operation.duration',
  refreshes: 'mcp_oauth.refresh.count',
  refreshDuration: 'mcp_oauth.refresh.duration',
  signIns: 'mcp_oauth.sign_in.count',
  signOuts: 'mcp_oauth.sign_out.count',
  revocations: 'mcp_oauth.revocation.count',
  reauthRequired: 'mcp_oauth.reauth_required.count',
  activeSessions: 'mcp_oauth.session.active',
  handlerDuration: 'mcp_oauth.http.handler.duration',
} as const;

/** Attribute names. */
export const ATTRIBUTES = {
  store: 'mcp_oauth.store',
  operation: 'mcp_oauth.operation',
  outcome: 'mcp_oauth.outcome',
  reason: 'mcp_oauth.reason',
  handler: 'mcp_oauth.handler',
  /** OpenTelemetry semantic conventions. */
  errorType: 'error.type',
  userId: 'user.id',
  httpStatus: 'http.response.status_code',
} as const;

/** Options of {@link createTelemetry}. */
export interface TelemetryOptions {
  /** Default: the global meter provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
  /** Default: the global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /**
   * Put the user id (`user.id`) on spans (never on metrics, where it would make a series per user).
   * Default false: user ids are personal data your tracing backend may not be cleared to hold.
   */
  recordUserIds?: boolean;
  /** The `mcp_oauth.store` attribute of stores that do not say which kind they are. Default `custom`. */
  storeName?: string;
}

/** What {@link createTelemetry} returns: one function per component. */
export interface Telemetry {
  /** The store, wrapped: every operation timed (histogram) and traced (span). Pass the result on. */
  store<T extends CredentialStore>(store: T, name?: string): CredentialStore;
  /** Subscribes to the manager's events: refreshes, sign-ins, revocations, reauth. Resolves an unsubscribe. */
  manager(manager: CredentialManager): () => void;
  /**
   * Counts sign-outs (`removeSession`) and reports active sessions as an observable gauge (read
   * with `stats()` at each collection: a key count on Redis and PostgreSQL).
   */
  sessions(sessionStore: OAuth21SessionStore): void;
  /** A web-standard handler, traced and timed under `name` (a span per request, the status recorded). */
  handler<A extends unknown[]>(
    name: string,
    handler: (request: Request, ...rest: A) => Promise<Response | undefined>,
  ): (request: Request, ...rest: A) => Promise<Response | undefined>;
}

const STORE_NAMES = new Map<string, string>([
  ['MemoryCredentialStore', 'memory'],
  ['FileCredentialStore', 'file'],
  ['S3CredentialStore', 's3'],
  ['PostgresCredentialStore', 'postgres'],
  ['DynamoCredentialStore', 'dynamodb'],
  ['EncryptedCredentialStore', 'encrypted'],
]);

/** Instruments built from the given (or global) OpenTelemetry providers. */
export function createTelemetry(options: TelemetryOptions = {}): Telemetry {
  const meter: Meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_SCOPE);
  const tracer: Tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(
    INSTRUMENTATION_SCOPE,
  );
  const recordUserIds = options.recordUserIds === true;
  const seconds = (name: string, description: string): Histogram =>
    meter.createHistogram(name, { unit: 's', description });
  const count = (name: string, description: string): Counter => meter.createCounter(name, { description });
  const storeDuration = seconds(METRICS.storeDuration, 'Duration of credential store operations');
  const refreshes = count(METRICS.refreshes, 'Access token refreshes by outcome');
  const refreshDuration = seconds(
    METRICS.refreshDuration,
    'Duration of successful refreshes, retries included',
  );
  const signIns = count(METRICS.signIns, 'Completed sign-ins (authorization code exchanges)');
  const signOuts = count(METRICS.signOuts, 'Sessions ended (sign-out, revoke, dead refresh token)');
  const revocations = count(METRICS.revocations, 'Grants revoked through the manager');
  const reauthRequired = count(METRICS.reauthRequired, 'Users who must sign in again, by reason');
  const handlerDuration = seconds(METRICS.handlerDuration, 'Duration of the package’s HTTP handlers');
  const userAttribute = (userId: string | undefined): Attributes =>
    recordUserIds && userId !== undefined ? { [ATTRIBUTES.userId]: userId } : {};

  /** A span for something that already happened (manager events carry their duration). */
  const pastSpan = (name: string, durationMs: number, attributes: Attributes, failed?: string) => {
    const end = Date.now();
    const span = tracer.startSpan(name, { startTime: end - durationMs, attributes });
    if (failed !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: failed });
    span.end(end);
  };

  return {
    store(store, name) {
      const storeName =
        name ?? STORE_NAMES.get(store.constructor?.name ?? '') ?? options.storeName ?? 'custom';
      return observeStore(store, {
        name: storeName,
        onOperation: (event) => {
          const errorType =
            event.errorCode ??
            (event.outcome === 'error' || event.outcome === 'conflict' ? 'INTERNAL' : undefined);
          const attributes: Attributes = {
            [ATTRIBUTES.store]: storeName,
            [ATTRIBUTES.operation]: event.operation,
            [ATTRIBUTES.outcome]: event.outcome,
            ...(errorType === undefined ? {} : { [ATTRIBUTES.errorType]: errorType }),
          };
          storeDuration.record(event.durationMs / 1000, attributes);
          pastSpan(
            `mcp_oauth.store.${event.operation}`,
            event.durationMs,
            { ...attributes, ...userAttribute(event.userId) },
            event.outcome === 'error' || event.outcome === 'conflict' ? errorType : undefined,
          );
        },
      });
    },

    manager(manager) {
      const unsubscribe = [
        manager.on('refreshed', (event) => {
          refreshes.add(1, { [ATTRIBUTES.outcome]: 'refreshed' });
          refreshDuration.record(event.durationMs / 1000);
          pastSpan('mcp_oauth.refresh', event.durationMs, {
            [ATTRIBUTES.outcome]: 'refreshed',
            'mcp_oauth.attempts': event.attempts,
            'mcp_oauth.rotated': event.rotated,
            ...userAttribute(event.userId),
          });
        }),
        manager.on('refresh-failed', (event) => {
          if (event.willRetry) return;
          const outcome = event.errorCode === 'REAUTH_REQUIRED' ? 'reauth_required' : 'failed';
          refreshes.add(1, { [ATTRIBUTES.outcome]: outcome, [ATTRIBUTES.errorType]: event.errorCode });
          pastSpan(
            'mcp_oauth.refresh',
            event.durationMs,
            {
              [ATTRIBUTES.outcome]: outcome,
              [ATTRIBUTES.errorType]: event.errorCode,
              'mcp_oauth.attempts': event.attempt,
              ...userAttribute(event.userId),
            },
            event.errorCode,
          );
        }),
        manager.on('refresh-conflict', () => refreshes.add(1, { [ATTRIBUTES.outcome]: 'conflict' })),
        manager.on('reauth-required', (event) =>
          reauthRequired.add(1, { [ATTRIBUTES.reason]: event.reason }),
        ),
        manager.on('authorized', (event) => {
          signIns.add(1);
          pastSpan('mcp_oauth.code_exchange', event.durationMs, {
            'mcp_oauth.has_refresh_token': event.hasRefreshToken,
            ...userAttribute(event.userId),
          });
        }),
        manager.on('revoked', (event) => {
          revocations.add(1, { 'mcp_oauth.provider_revoked': event.providerRevoked });
          pastSpan('mcp_oauth.revoke', event.durationMs, {
            'mcp_oauth.provider_revoked': event.providerRevoked,
            ...userAttribute(event.userId),
          });
        }),
      ];
      return () => {
        for (const off of unsubscribe) off();
      };
    },

    sessions(sessionStore) {
      const removeSession = sessionStore.removeSession.bind(sessionStore);
      // Wrapped on this instance only: stores that are not instrumented pay nothing.
      sessionStore.removeSession = async (userId: string) => {
        const existed = await removeSession(userId);
        if (existed) signOuts.add(1);
        return existed;
      };
      meter
        .createObservableUpDownCounter(METRICS.activeSessions, { description: 'Live sessions' })
        .addCallback(async (result) => {
          try {
            result.observe((await sessionStore.stats()).sessions);
          } catch {
            // The backend is down: no observation this time (the logs and health say why).
          }
        });
    },

    handler(name, handler) {
      return async (request, ...rest) => {
        const started = performance.now();
        const span = tracer.startSpan(`mcp_oauth.http ${name}`, {
          attributes: { [ATTRIBUTES.handler]: name, 'http.request.method': request.method },
        });
        let status = 500;
        try {
          const response = await handler(request, ...rest);
          status = response?.status ?? 404;
          return response;
        } catch (error) {
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: isCredentialError(error) ? error.code : 'INTERNAL',
          });
          throw error;
        } finally {
          if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.setAttribute(ATTRIBUTES.httpStatus, status);
          span.end();
          handlerDuration.record((performance.now() - started) / 1000, {
            [ATTRIBUTES.handler]: name,
            [ATTRIBUTES.httpStatus]: status,
          });
        }
      };
    },
  };
}
