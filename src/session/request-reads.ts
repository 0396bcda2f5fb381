/**
 * Reads the session store made while verifying one request's bearer token, kept with that
 * request's `AuthInfo` object so the MCP session guard and the tool helper of the same request reuse
 * them instead of asking a shared backend (Redis, PostgreSQL) again.
 *
 * @module
 */

/**
 * How long reads made at verification stand in for new ones, milliseconds: long enough for a
 * request to pass the guard and reach its tool, short enough that a tool called late in a long
 * request reads again (a sign-out elsewhere is seen within this bound by such a call).
 */
export const REQUEST_READS_MAX_AGE_MS = 1000;

interface Carried<Session, Binding> {
  userId: string;
  session: Session;
  readAt: number;
  mcpSessionId?: string;
  binding?: Binding;
}

/**
 * Keyed by the `AuthInfo` object itself: each verification on a shared backend hands out its own,
 * so what is kept belongs to exactly one request and cannot be planted by a caller (only the
 * session store, which made the object, writes here).
 */
export class RequestReads<Session, Binding> {
  readonly #byRequest = new WeakMap<object, Carried<Session, Binding>>();

  /** Keeps `userId`'s live session as read at `now` while verifying `auth`. */
  keep(auth: object, userId: string, session: Session, now: number): void {
    this.#byRequest.set(auth, { userId, session, readAt: now });
  }

  /** The session of `userId` read for `auth`, if still fresh at `now`. */
  session(auth: object | undefined, userId: string, now: number): Session | undefined {
    const carried = this.#fresh(auth, now);
    return carried?.userId === userId ? carried.session : undefined;
  }

  /** Keeps the binding of `mcpSessionId` read (and found valid) for `auth`. */
  keepBinding(auth: object, mcpSessionId: string, binding: Binding): void {
    const carried = this.#byRequest.get(auth);
    if (carried === undefined) return;
    carried.mcpSessionId = mcpSessionId;
    carried.binding = binding;
  }

  /** The binding of `mcpSessionId` read for `auth`, if still fresh at `now`. */
  binding(auth: object | undefined, mcpSessionId: string, now: number): Binding | undefined {
    const carried = this.#fresh(auth, now);
    return carried?.mcpSessionId === mcpSessionId ? carried.binding : undefined;
  }

  #fresh(auth: object | undefined, now: number): Carried<Session, Binding> | undefined {
    // Stryker disable next-line ConditionalExpression: a WeakMap answers undefined for undefined too; this only skips the lookup
    if (auth === undefined) return undefined;
    const carried = this.#byRequest.get(auth);
    // A clock that went backwards makes the reads stale too, never fresher.
    if (carried === undefined || now < carried.readAt || now - carried.readAt > REQUEST_READS_MAX_AGE_MS) {
      return undefined;
    }
    return carried;
  }
}
