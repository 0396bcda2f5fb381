/**
 * `mcp-oauth-credentials/otel`: OpenTelemetry metrics and spans for stores, the manager, the session
 * store and HTTP handlers, through `@opentelemetry/api` (an optional peer dependency) and whatever
 * SDK you register. Nothing else in the package loads it.
 *
 * ```ts
 * const telemetry = createTelemetry(); // the global meter and tracer providers
 * const store = telemetry.store(await createCredentialStore(process.env.CREDENTIAL_STORE));
 * const manager = new CredentialManager({ store, oauth });
 * telemetry.manager(manager);
 * telemetry.sessions(sessionStore);
 * ```
 *
 * @packageDocumentation
 */
export type { Telemetry, TelemetryOptions } from './telemetry.js';
export { ATTRIBUTES, createTelemetry, INSTRUMENTATION_SCOPE, METRICS } from './telemetry.js';
