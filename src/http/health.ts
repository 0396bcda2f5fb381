/**
 * {@link checkHealth}: whether the credential store, the session backend and the OAuth provider
 * answer, each on its own with its latency, for readiness probes and dashboards; and
 * {@link createHealthHandler}, its web-standard HTTP handler (mounted by every adapter). Reports
 * error codes only: no user, token, bucket, path or connection string.
 *
 * @module
 */
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { isCredentialError } from '../errors.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import type { CredentialStore } from '../stores/types.js';
import { jsonResponse } from './responses.js';

/** A user id that cannot exist (`.invalid` is reserved): reading it touches the store and finds nothing. */
export const HEALTH_PROBE_USER = 'health-probe@health-check.invalid';

/** The session layer as health checks see it: an `OAuth21SessionStore`, or a `SessionBackend`. */
export type SessionsProbe =
  | {
      /** A session store: reads one (absent) session. */
      getSession(userId: string): Promise<unknown>;
    }
  | {
      /** A session backend: reads one (absent) entry. */
      get(namespace: string, key: string): Promise<unknown>;
    };

/** Options of {@link checkHealth}. */
export interface CheckHealthOptions {
  /** The credential store: probed with a `get` of {@link HEALTH_PROBE_USER}. */
  store?: CredentialStore;
  /** The session store or its backend: probed with one read. */
  sessions?: SessionsProbe;
  /**
   * A URL of the OAuth provider to fetch: its JWKS (`https://www.googleapis.com/oauth2/v3/certs`
   * for Google) or its discovery document. Any HTTP answer below 500 counts as reachable.
   */
  provider?: string | URL;
  /** Per-check timeout, ms. Default 2000. */
  timeoutMs?: number;
}

/** One component's health. */
export interface ComponentHealth {
  ok: boolean;
  /** How long the probe took, ms (the timeout when it timed out). */
  latencyMs: number;
  /** Why it failed: an error code (`STORAGE_UNAVAILABLE`, `TIMEOUT`, `HTTP 503`...). Never a message. */
  error?: string;
}

/** What {@link checkHealth} resolves. */
export interface HealthReport {
  /**
   * `ok`: everything answers. `degraded`: only the provider does not (signed-in users keep working
   * until their access tokens need a refresh). `down`: the store or the session backend does not
   * (requests fail).
   */
  status: 'ok' | 'degraded' | 'down';
  checks: { store?: ComponentHealth; sessions?: ComponentHealth; provider?: ComponentHealth };
}

/** Probes the given components in parallel; never rejects. */
export async function checkHealth(options: CheckHealthOptions): Promise<HealthReport> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const store = options.store;
  const sessions = options.sessions;
  const provider = options.provider;
  const [storeHealth, sessionHealth, providerHealth] = await Promise.all([
    store === undefined ? undefined : probe(timeoutMs, () => store.get(HEALTH_PROBE_USER)),
    sessions === undefined ? undefined : probe(timeoutMs, () => readSessions(sessions)),
    provider === undefined ? undefined : probe(timeoutMs, (signal) => fetchProvider(provider, signal)),
  ]);
  const checks: HealthReport['checks'] = {};
  if (storeHealth) checks.store = storeHealth;
  if (sessionHealth) checks.sessions = sessionHealth;
  if (providerHealth) checks.provider = providerHealth;
  const status =
    storeHealth?.ok === false || sessionHealth?.ok === false
      ? 'down'
      : providerHealth?.ok === false
        ? 'degraded'
        : 'ok';
  return { status, checks };
}

function readSessions(sessions: SessionsProbe): Promise<unknown> {
  return 'getSession' in sessions ? sessions.getSession(HEALTH_PROBE_USER) : sessions.get('health', 'probe');
}

async function fetchProvider(url: string | URL, signal: AbortSignal): Promise<void> {
  const response = await fetch(url, { signal, redirect: 'manual' });
  await response.body?.cancel().catch(() => {});
  if (response.status >= 500)
    throw Object.assign(new Error('provider error'), { code: `HTTP ${response.status}` });
}

async function probe(
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<unknown>,
): Promise<ComponentHealth> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve('timeout');
    }, timeoutMs);
  });
  try {
    const outcome = await Promise.race([work(controller.signal).then(() => 'done' as const), timeout]);
    const latencyMs = Math.round(performance.now() - started);
    return outcome === 'timeout' ? { ok: false, latencyMs, error: 'TIMEOUT' } : { ok: true, latencyMs };
  } catch (error) {
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: codeOf(error) };
  } finally {
    clearTimeout(timer);
  }
}

function codeOf(error: unknown): string {
  if (isCredentialError(error)) return error.code;
  const code = (error as { code?: unknown; cause?: { code?: unknown } } | undefined)?.code;
  if (typeof code === 'string' && /^[A-Z0-9_ ]{1,40}$/i.test(code)) return code;
  const causeCode = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  if (typeof causeCode === 'string' && /^[A-Z0-9_]{1,40}$/.test(causeCode)) return causeCode;
  return 'UNREACHABLE';
}

/** Options of {@link createHealthHandler}. */
export interface HealthHandlerOptions extends CheckHealthOptions {
  /**
   * How long a report is reused, ms, so a flood of probes costs one check per period (and never
   * floods the provider). Default 5000.
   */
  cacheMs?: number;
  /** Default: the system clock. */
  clock?: Clock;
  /** Where a change of status is logged (`warn` when it worsens, `info` when it recovers). Default: silent. */
  logger?: Logger;
}

/**
 * A web-standard handler answering the {@link HealthReport} as JSON: 200 for `ok` and `degraded`,
 * 503 for `down` (take the replica out of rotation). Mount it with the adapter of your framework
 * (`expressHandler`, `honoHandler`) at a path your load balancer probes.
 */
export function createHealthHandler(options: HealthHandlerOptions): (request: Request) => Promise<Response> {
  const cacheMs = options.cacheMs ?? 5_000;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  let cached: { report: HealthReport; at: number } | undefined;
  let running: Promise<HealthReport> | undefined;
  let lastStatus: HealthReport['status'] | undefined;
  return async () => {
    const now = clock.now();
    let report: HealthReport;
    if (cached !== undefined && now - cached.at < cacheMs) {
      report = cached.report;
    } else {
      running ??= checkHealth(options).finally(() => {
        running = undefined;
      });
      report = await running;
      cached = { report, at: clock.now() };
      if (report.status !== lastStatus) {
        if (lastStatus !== undefined || report.status !== 'ok') {
          const fields = { component: 'health', status: report.status, checks: report.checks };
          if (report.status === 'ok') logger.info(fields, 'health recovered');
          else logger.warn(fields, `health ${report.status}`);
        }
        lastStatus = report.status;
      }
    }
    return jsonResponse(report.status === 'down' ? 503 : 200, report);
  };
}
