import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { CompiledPipeline, RunResult, StepEvent } from '../pipeline/index.js';
import type { BackendView, PipelineView, ToolView, WhoAmI } from './types.js';

/**
 * What the console needs of the running gateway, handed in by the front (src/front/console-host.ts),
 * so the console never reaches into the front and the front loads it only when `http.console` is on.
 * Methods taking `req` answer for the caller the request authenticated as (`http.auth.rules`).
 */
export interface ConsoleHost {
  /** Host and Origin only, for the page itself (it holds no data); answers a refusal and returns false. */
  checkOrigin(req: IncomingMessage, res: ServerResponse): boolean;
  /**
   * The checks /mcp makes — Host and Origin, then the bearer token or OAuth access token. Answers the
   * refusal itself and returns undefined; else who the caller is.
   */
  authorize(req: IncomingMessage, res: ServerResponse): Promise<AuthorizedRequest | undefined>;
  backends(): Promise<BackendView[]>;
  tools(who: AuthorizedRequest): ToolView[];
  /** Calls a served tool as tools/call would; a gateway failure is a result with isError. */
  callTool(
    who: AuthorizedRequest,
    name: string,
    args: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<CallToolResult>;
  pipelines(who: AuthorizedRequest): PipelineView[];
  /**
   * Starts a run of a pipeline of the catalog; resolves once it has started (its inputs checked) with
   * the run's promise, or rejects with a GatewayError (unknown pipeline, bad inputs, not allowed).
   */
  startRun(who: AuthorizedRequest, name: string, inputs: Record<string, unknown>): Promise<void>;
  watchRuns(watcher: RunWatcher): () => void;
  /** Backends' status, the tool table and the pipeline catalog changing. */
  onChange(listener: (what: 'backends' | 'tools' | 'pipelines') => void): () => void;
  /** Largest request body the console reads. */
  maxBodyBytes(): number;
  /** With `http.auth` and `http.console.client_id`: the console's OAuth client; else undefined. */
  oauthClient(): ConsoleOAuthClient | undefined;
}

/** The console's public client at the issuer (no secret: the browser holds no secret). */
export interface ConsoleOAuthClient {
  issuer: string;
  clientId: string;
  scope: string;
  /** The gateway's /mcp resource (RFC 8707). */
  resource: string;
  /** From the issuer's metadata, read on first use and kept once read. */
  endpoints(): Promise<{ authorizationEndpoint: string; tokenEndpoint: string }>;
}

export interface AuthorizedRequest {
  whoami: WhoAmI;
  /** Opaque: what the front needs to check this caller's access again. */
  auth: unknown;
}

/** One run as the console hears it (the shape of src/front/run-watch.ts's RunWatch). */
export interface RunWatch {
  event(event: StepEvent): void;
  call(
    step: string,
    item: number | undefined,
    attempt: number,
    at: number,
  ): (error: string | undefined, at: number) => void;
  ended(result: RunResult): void;
}

export type RunWatcher = (run: { pipeline: CompiledPipeline; inputs: unknown }) => RunWatch;

/** What the front calls for every request under /console. */
export interface ConsoleHandler {
  handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void>;
  close(): void;
}
