/**
 * The access token, asked of the application on every (re)connect and never cached here (the
 * application refreshes it), but single-flight: calls made while one is pending share its promise,
 * so a burst of reconnects does not hit the token endpoint several times. The token travels as a
 * subprotocol, never in the URL, where proxies and logs would keep it.
 */

import { SUBPROTOCOL, TOKEN_SUBPROTOCOL } from "./frames.js";

export type GetToken = () => Promise<string | null>;

export class TokenSource {
  private pending: Promise<string | null> | null = null;
  private count = 0;

  constructor(private readonly getToken: GetToken | undefined) {}

  /** How many times the application's `getToken()` was called. */
  get calls(): number {
    return this.count;
  }

  /** Whether there is a token to ask for at all (without `getToken`, the client connects without one). */
  get enabled(): boolean {
    return this.getToken !== undefined;
  }

  /** The current token; shares the pending call when there is one. */
  get(): Promise<string | null> {
    const getToken = this.getToken;
    if (getToken === undefined) return Promise.resolve(null);
    if (this.pending === null) {
      this.count += 1;
      const call = (async () => getToken())();
      this.pending = call;
      const clear = () => {
        if (this.pending === call) this.pending = null;
      };
      call.then(clear, clear);
    }
    return this.pending;
  }
}

/** The subprotocols offered in the handshake: `beeflow.v1`, and the token beside its marker. */
export function subprotocols(token: string | null): string[] {
  return token === null ? [SUBPROTOCOL] : [SUBPROTOCOL, TOKEN_SUBPROTOCOL, token];
}
