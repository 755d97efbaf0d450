// oidc-provider ships no types; the tests use it as an OpenID provider behind a Node http server
// (test/helpers/identity/oidc-server.ts) and need no more of it than this.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
    on(event: 'server_error', listener: (context: unknown, error: Error) => void): this;
  }
}
