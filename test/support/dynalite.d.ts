/** The part of dynalite (no types published) the test harness uses. */
declare module 'dynalite' {
  import type { Server } from 'node:net';
  export default function dynalite(options?: {
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
  }): Server;
}
