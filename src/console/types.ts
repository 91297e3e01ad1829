/**
 * The JSON the console's API answers with (`/console/api/...`), shared by the server (src/console)
 * and the page (src/console-ui). Plain data only: this file imports nothing, so the page can use it.
 * Everything in it that came from a backend (names, descriptions, results, stderr) is untrusted: the
 * page shows it as text.
 */

export interface BackendView {
  name: string;
  transport: 'stdio' | 'http';
  status: 'connecting' | 'ready' | 'failed' | 'closed' | 'needs login';
  description?: string;
  /** `command args…` or the URL (credentials stripped). */
  target: string;
  pid?: number;
  era?: 'legacy' | 'modern';
  protocolVersion?: string;
  restarts: number;
  lastError?: string;
  stderrTail: string[];
  source: string;
  counts: { tools: number; resources: number | null; prompts: number | null };
}

export interface ToolView {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  /** The backend serving it; absent for the gateway's own tools and pipelines. */
  server?: string;
}

export interface IssueView {
  file?: string;
  line: number;
  column: number;
  message: string;
  step?: string;
}

export interface PipelineView {
  name: string;
  file: string;
  description?: string;
  valid: boolean;
  /** Served: valid, or invalid with its last good version still serving. */
  serving: boolean;
  /** The version shown (the last good one while the file is invalid). */
  inputsSchema?: Record<string, unknown>;
  /** The graph as `mcp-gateway graph` writes it (Mermaid flowchart text). */
  mermaid?: string;
  steps: { id: string; target: string; dependsOn: string[] }[];
  issues: IssueView[];
  warnings: IssueView[];
}

export type RunState = 'running' | 'succeeded' | 'failed' | 'cancelled';
export type StepState = 'waiting' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

/** One call of a step: a for_each item and/or an attempt. Times in ms since the run started. */
export interface CallView {
  item?: number;
  attempt: number;
  start: number;
  end?: number;
  error?: string;
}

export interface StepView {
  id: string;
  /** `server.tool` or `pipeline <name>`. */
  target: string;
  state: StepState;
  start?: number;
  end?: number;
  attempts?: number;
  items?: number;
  error?: string;
  reason?: string;
  calls: CallView[];
}

export interface RunView {
  id: string;
  pipeline: string;
  state: RunState;
  /** Epoch ms. */
  startedAt: number;
  durationMs?: number;
  inputs: unknown;
  output?: unknown;
  error?: string;
  failedStep?: string;
  steps: StepView[];
}

/** What the events stream (`/console/api/events`) sends, one JSON object per SSE `data:` line. */
export type LiveEvent =
  | { type: 'backends'; backends: BackendView[] }
  | { type: 'run'; run: RunView }
  | { type: 'tools' }
  | { type: 'pipelines' };

export interface WhoAmI {
  caller: string;
  auth: 'token' | 'oauth' | 'none';
}

/**
 * How the page signs in (`/console/api/sign-in`, public): with `oauth`, through the authorization
 * server (authorization code + PKCE, `http.console.client_id`); the token form otherwise (and besides).
 */
export interface SignInView {
  oauth?: {
    issuer: string;
    authorizationEndpoint: string;
    clientId: string;
    /** Space-separated; may be empty. */
    scope: string;
    /** RFC 8707: the gateway's /mcp resource, the audience its tokens must carry. */
    resource: string;
  };
  /** Set when OAuth sign-in is configured but the issuer's metadata could not be read. */
  problem?: string;
}

/** What `/console/api/oauth/token` answers after exchanging the code: the access token only. */
export interface TokenView {
  access_token: string;
  token_type: string;
  expires_in?: number;
  scope?: string;
}
