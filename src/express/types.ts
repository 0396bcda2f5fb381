/**
 * The parts of Express this adapter touches, declared structurally: the package's declarations
 * need neither `express` nor `@types/express`, and Express 4.21+ and 5 requests and responses fit.
 *
 * @module
 */
import type { AuthInfo } from '../auth-info.js';

/** An Express request, as far as the adapter reads it. */
export interface ExpressRequest extends AsyncIterable<unknown> {
  method: string;
  url: string;
  originalUrl?: string;
  protocol: string;
  ip?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  readableEnded?: boolean;
  /** Set by an MCP SDK's `requireBearerAuth` (v1 or v2). */
  auth?: AuthInfo | undefined;
}

/** An Express response, as far as the adapter writes it. */
export interface ExpressResponse {
  /** Sets the status code. */
  status(code: number): unknown;
  /** Sets a header. */
  setHeader(name: string, value: string | number | readonly string[]): unknown;
  /** Sends the body and ends the response. */
  end(body?: Buffer | string): unknown;
  readonly headersSent?: boolean;
}

/** Express's `next`. */
export type ExpressNext = (error?: unknown) => void;

/** A handler or middleware to mount with `app.get`, `app.post`, `app.use`. */
export type ExpressHandler = (req: ExpressRequest, res: ExpressResponse, next: ExpressNext) => void;
