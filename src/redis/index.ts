/**
 * `mcp-oauth-credentials/redis`: the Redis session backend, for servers running as several replicas.
 * Needs `ioredis` (an optional peer dependency); the package root never loads it.
 *
 * @packageDocumentation
 */
export type { RedisSessionBackendOptions } from '../session/redis-backend.js';
export { RedisSessionBackend } from '../session/redis-backend.js';
