/**
 * {@link OAuthFailure}: an OAuth error as the authorization server answers it (RFC 6749 §5.2,
 * RFC 7591 §3.2.2, RFC 8707, RFC 6750 §3.1), independent of any MCP SDK; adapters translate it into
 * an SDK's own error class where an SDK needs one.
 *
 * @module
 */
import { jsonResponse } from '../http/responses.js';

/** The OAuth error codes this server answers. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'invalid_client_metadata'
  | 'invalid_redirect_uri'
  | 'invalid_token'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'too_many_requests';

const STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  invalid_client_metadata: 400,
  invalid_redirect_uri: 400,
  invalid_token: 401,
  access_denied: 403,
  server_error: 500,
  temporarily_unavailable: 503,
  too_many_requests: 429,
};

/** An OAuth error: `error` and a description safe to show the client (never a token). */
export class OAuthFailure extends Error {
  readonly error: OAuthErrorCode;

  constructor(error: OAuthErrorCode, description: string) {
    super(description);
    this.name = 'OAuthFailure';
    this.error = error;
  }

  /** The HTTP status this error is answered with. */
  get status(): number {
    return STATUS[this.error];
  }

  /** The RFC 6749 error body. */
  toResponseObject(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.message };
  }

  /** The JSON response (with `WWW-Authenticate` for `invalid_client` on Basic authentication). */
  toResponse(init: { headers?: ConstructorParameters<typeof Headers>[0] } = {}): Response {
    return jsonResponse(this.status, this.toResponseObject(), init);
  }
}
