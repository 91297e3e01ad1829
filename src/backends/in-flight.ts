import type { GatewayError } from '../errors.js';

/** One tools/call or other request running on a backend. */
export interface InFlightCall {
  tool: string;
  controller: AbortController;
  /** Set when the gateway ended the call itself (server removed, shutdown). */
  endedBy?: GatewayError;
}

/**
 * The calls and requests in flight on one backend: those the gateway can end (`endAll`, when the
 * backend is removed or shut down), and a count that includes those still waiting for a connection, so
 * a drain (`whenIdle`) waits for them too.
 */
export class InFlight {
  private readonly calls = new Set<InFlightCall>();
  /** Calls in `callTool` and requests in `request`, including those still waiting for the backend to connect. */
  private active = 0;
  private readonly idleWaiters = new Set<() => void>();

  /** A call or request begins; `leave` when it ends, however it ends. */
  enter(): void {
    this.active++;
  }

  leave(): void {
    if (--this.active === 0) for (const done of [...this.idleWaiters]) done();
  }

  /** The call is now running on the connection and can be ended by `endAll`. */
  add(call: InFlightCall): void {
    this.calls.add(call);
  }

  delete(call: InFlightCall): void {
    this.calls.delete(call);
  }

  /**
   * Resolves once no call is in flight, counting calls still waiting for a connection (at once when
   * there are none).
   */
  whenIdle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.idleWaiters.delete(done);
        resolve();
      };
      this.idleWaiters.add(done);
    });
  }

  /** Ends every call running with the error `why` gives it (which the call then throws). */
  endAll(why: (call: InFlightCall) => GatewayError): void {
    for (const call of this.calls) {
      call.endedBy = why(call);
      // Aborting sends notifications/cancelled while the connection is still open.
      call.controller.abort(call.endedBy);
    }
  }
}
