import type { LoggingLevel, ServerNotification } from '@modelcontextprotocol/server';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';

/** Where a session's notifications go: its SDK Server, or a sink such as the HTTP front's listen bus. */
export interface SessionNotifier {
  notification(notification: ServerNotification): Promise<void>;
}

/** One client session as the protocol hub sees it. */
export interface HubSession {
  readonly server: SessionNotifier;
  /** Gateway URIs this session subscribed to. */
  readonly subscriptions: Set<string>;
  /**
   * Set by the client's logging/setLevel. Unset, the session gets no backend log messages: with many
   * backends behind one endpoint, a client that never asked for logs is not flooded with them.
   */
  logLevel: LoggingLevel | undefined;
}

/** Sends `notification` to the session's client; one that cannot take it is only logged. */
export function notifySession(session: HubSession, notification: ServerNotification, logger: Logger): void {
  session.server.notification(notification).catch((err: unknown) => {
    // Not connected yet or already closed: nothing to tell.
    logger.debug(`${notification.method} not delivered: ${errorMessage(err)}`);
  });
}
