/**
 * The console's live updates over Server-Sent Events (`/console/api/events`): backends' status as it
 * changes, each run as it goes, and a nudge when the tools or pipelines change. The page reads the
 * stream with fetch (EventSource cannot send the Authorization header).
 */
import type { ServerResponse } from 'node:http';
import type { ConsoleHost } from './host.js';
import type { RunJournal } from './run-journal.js';
import { SECURITY_HEADERS } from './static-files.js';
import type { LiveEvent } from './types.js';

/** Backend changes come in bursts (a restart is several); the list is sent once per burst. */
const BACKENDS_DEBOUNCE_MS = 150;
/** A comment line now and then keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

export class LiveStreams {
  private readonly streams = new Set<ServerResponse>();
  private readonly off: (() => void)[] = [];
  private backendsTimer: NodeJS.Timeout | undefined;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly host: ConsoleHost,
    journal: RunJournal,
  ) {
    this.off.push(journal.onChange((run) => this.send({ type: 'run', run })));
    this.off.push(
      host.onChange((what) => {
        if (what === 'backends') this.backendsSoon();
        else this.send({ type: what });
      }),
    );
    this.heartbeat = setInterval(() => {
      for (const res of this.streams) res.write(': keep-alive\n\n');
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  open(res: ServerResponse): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    res.write(': connected\n\n');
    this.streams.add(res);
    res.once('close', () => this.streams.delete(res));
  }

  close(): void {
    for (const off of this.off.splice(0)) off();
    clearInterval(this.heartbeat);
    clearTimeout(this.backendsTimer);
    for (const res of this.streams) res.end();
    this.streams.clear();
  }

  private backendsSoon(): void {
    if (this.streams.size === 0 || this.backendsTimer) return;
    this.backendsTimer = setTimeout(() => {
      this.backendsTimer = undefined;
      this.host.backends().then(
        (backends) => this.send({ type: 'backends', backends }),
        () => {},
      );
    }, BACKENDS_DEBOUNCE_MS);
  }

  private send(event: LiveEvent): void {
    if (this.streams.size === 0) return;
    const frame = `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
    for (const res of this.streams) res.write(frame);
  }
}
