/**
 * {@link expressHealthCheck}: the health handler of the HTTP core as an Express handler.
 *
 * @module
 */
import { createHealthHandler, type HealthHandlerOptions } from '../http/health.js';
import type { ExpressHandler } from './types.js';
import { expressHandler } from './web.js';

/**
 * An Express handler answering `checkHealth` as JSON (200 `ok`/`degraded`, 503 `down`), reports
 * reused for `cacheMs`: `app.get('/healthz', expressHealthCheck({ store, sessions: sessionStore,
 * provider: manager.keysUrl }))`.
 */
export function expressHealthCheck(options: HealthHandlerOptions): ExpressHandler {
  return expressHandler(createHealthHandler(options));
}
