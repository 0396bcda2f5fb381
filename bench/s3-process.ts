/**
 * The S3 emulator (fauxqs with the conditional-write shim, `dev/s3-endpoint.ts`) in its own process,
 * so its CPU is not counted in the store figures it serves. Sends `{ endpoint }` over IPC when
 * listening; exits when its parent sends `close` or goes away.
 */
import { startS3Endpoint } from '../dev/s3-endpoint.js';

const endpoint = await startS3Endpoint();
process.on('message', async (message: string) => {
  if (message !== 'close') return;
  await endpoint.close();
  process.exit(0);
});
process.on('disconnect', () => process.exit(0));
process.send?.({ endpoint: endpoint.endpoint });
