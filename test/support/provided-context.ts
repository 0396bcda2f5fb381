/** What the global setup hands to test workers through `inject()`. */
declare module 'vitest' {
  export interface ProvidedContext {
    /** The in-process S3 endpoint, `http://127.0.0.1:<port>`. */
    s3Endpoint: string;
    /** `redis://127.0.0.1:<port>`, or '' when redis-server is not installed. */
    redisUrl: string;
    /** PGlite's socket server, `postgres://postgres@127.0.0.1:<port>/postgres` (always there). */
    pgliteUrl: string;
    /** The distribution's PostgreSQL (or `MCPOC_POSTGRES_URL`), or '' (see `postgresSkipReason`). */
    postgresUrl: string;
    postgresSkipReason: string;
    /** dynalite, `http://127.0.0.1:<port>` (always there). */
    dynaliteEndpoint: string;
    /** moto's server (DynamoDB and S3), or '' (see `motoSkipReason`). */
    motoEndpoint: string;
    motoSkipReason: string;
  }
}

export {};
