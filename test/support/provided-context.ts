/** What the global setup hands to test workers through `inject()`. */
declare module 'vitest' {
  export interface ProvidedContext {
    /** The in-process S3 endpoint, `http://127.0.0.1:<port>`. */
    s3Endpoint: string;
    /** `redis://127.0.0.1:<port>`, or '' when redis-server is not installed. */
    redisUrl: string;
  }
}

export {};
