import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';

/**
 * Counts the client requests being answered, across every session and transport, so that shutdown
 * can stop taking new ones and wait for those in flight. Once closed, a new request is refused with a
 * JSON-RPC error rather than started and then cut off.
 */
export class RequestGate {
  private active = 0;
  private closedValue = false;
  private readonly idleWaiters = new Set<() => void>();

  get inFlight(): number {
    return this.active;
  }

  get closed(): boolean {
    return this.closedValue;
  }

  /** Runs `fn` as one request in flight; refuses it once the gate is closed. */
  async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.closedValue) {
      throw new ProtocolError(ProtocolErrorCode.InternalError, `${what}: the gateway is shutting down`, {
        code: 'BACKEND_UNAVAILABLE',
      });
    }
    this.active++;
    try {
      return await fn();
    } finally {
      if (--this.active === 0) for (const done of [...this.idleWaiters]) done();
    }
  }

  /** Refuses new requests from now on; those in flight go on. */
  close(): void {
    this.closedValue = true;
  }

  /** True once no request is in flight, false if `ms` passed first. */
  whenIdle(ms: number): Promise<boolean> {
    if (this.active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (idle: boolean) => {
        clearTimeout(timer);
        this.idleWaiters.delete(onIdle);
        resolve(idle);
      };
      const onIdle = () => done(true);
      const timer = setTimeout(() => done(false), Math.max(0, ms));
      this.idleWaiters.add(onIdle);
    });
  }
}
