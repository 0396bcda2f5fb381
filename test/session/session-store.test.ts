import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { RedisSessionBackend } from '../../src/redis/index.js';
import { MemorySessionBackend } from '../../src/session/index.js';
import { describeSessionStore } from './session-store.suite.js';

describeSessionStore('memory', () => ({
  create: async (clock) => new MemorySessionBackend({ clock }),
}));

const redisUrl = inject('redisUrl');
const clients: Redis[] = [];
describeSessionStore(
  'Redis',
  () =>
    redisUrl
      ? {
          create: async () => {
            const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
            await client.connect();
            clients.push(client);
            return new RedisSessionBackend({ client, keyPrefix: `test-${randomBytes(6).toString('hex')}:` });
          },
          dispose: async () => {
            await Promise.all(clients.splice(0).map((client) => client.quit()));
          },
        }
      : undefined,
  'redis-server is not installed (apt-get install redis-server)',
);
