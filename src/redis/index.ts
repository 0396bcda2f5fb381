/**
 * `mcp-oauth-credentials/redis`: the Redis session backend, for servers running as several replicas.
 * Takes a connected `ioredis` client (an optional peer dependency); nothing here loads `ioredis`
 * itself, and the declarations need no `ioredis` types.
 *
 * @packageDocumentation
 */
export type { RedisClient, RedisSessionBackendOptions } from '../session/redis-backend.js';
export { RedisSessionBackend } from '../session/redis-backend.js';
