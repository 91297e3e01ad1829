// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config's syntax, quoted
/**
 * What each `GatewayErrorCode` (src/errors.ts) means to a user, for docs/reference/errors.md.
 * A code added to the union without an entry here fails test/unit/docs-generated.test.ts.
 */
export const ERROR_CODE_DOCS: Record<string, string> = {
  CONFIG_INVALID:
    'gateway.yaml (or a file given to `--auto-register`) has problems; `data.issues` lists each at `file:line:column`. The gateway does not start; a hot reload keeps the last good config.',
  CONFIG_ENV_MISSING:
    'Reserved. A `${VAR}` that is unset and has no default is reported today as a `CONFIG_INVALID` issue naming the variable and where it is used.',
  CONFIG_READ_FAILED:
    'Reserved. A config file that cannot be read is reported today as a `CONFIG_INVALID` issue.',
  BACKEND_UNKNOWN:
    'No backend has that name (`call_backend`, `remove_server`, a pipeline step). The message lists the servers there are.',
  BACKEND_EXISTS:
    '`register_server` with a name already in use; remove that server first or pick another name.',
  BACKEND_UNAVAILABLE:
    'The backend is not ready for the call (still connecting when the call timed out, failed — it cannot start or is crash-looping, so calls fail fast — or the gateway is closing), or the call failed in transport. `data.status` and `data.lastError` say why. Also the `data.code` of the JSON-RPC error a request gets once the gateway is shutting down.',
  BACKEND_EXITED:
    'The backend process exited (stdio) or disconnected (HTTP) while the call ran, and the call was not retried (see `retry_on_crash`); `data.reason` and `data.stderr` hold its exit and last stderr lines.',
  BACKEND_REMOVED:
    "The backend was removed (`remove_server`, or gone or replaced in gateway.yaml on reload) while the request ran, and it did not finish within the grace (`remove_server`'s `grace`, default 0; on reload the backend's call timeout).",
  BACKEND_TIMEOUT:
    "The call took longer than its timeout (the step's, else the server's, else the config's, 10 s by default), time spent waiting for the backend to start included; the backend was sent MCP cancellation.",
  BACKEND_CANCELLED:
    'The client cancelled the request, or a pipeline run was cancelled or failed fast while the call ran.',
  BACKEND_NEEDS_LOGIN:
    'An HTTP backend with `oauth: { grant: authorization_code }` has no usable tokens (never logged in, or its refresh token was refused): `list_servers` shows it as `needs login`, and the message names the command to run, `mcp-gateway login <server>`. The backend connects by itself once the login is done.',
  TOOL_UNKNOWN:
    'The backend has no such tool; the message lists its tools. (A pipeline naming an unknown tool is `PIPELINE_INVALID`, with a "did you mean".)',
  INPUT_ROUNDS_EXCEEDED:
    'A 2026-07-28 backend kept answering `input_required` after `bridge.max_rounds` rounds of client input (default 8); the call was given up. `data` names the server, tool and the limit.',
  BACKEND_PROTOCOL:
    'A backend broke the protocol in a way the gateway cannot pass on: for example an `input_required` result asking the client for something other than elicitation/create, sampling/createMessage or roots/list.',
  TOOL_NOT_SERVED:
    'A call reached for a backend tool its server does not serve: one its `tools.include`/`tools.exclude` hide (through `call_backend`, unless `surface.call_backend_bypasses_filters`, or a step of a custom pipeline sent to `route_pipeline`), or one of a server with `pin: true` whose changed definition waits for approval. `data.reason` is `filtered` or `withheld`; see docs/guides/surface.md.',
  PARAMS_INVALID:
    'Arguments the gateway checks itself are wrong: `params` that is not an object or JSON text of one (with where it broke), a bad `register_server` entry, pipeline inputs that do not match their schema.',
  REGISTER_REFUSED:
    '`register_server` over HTTP asked for what the config does not allow: a command, arguments, env names or working directory no `http.allow_commands` entry allows, or a url that is not http(s), does not resolve, or reaches a non-public address `http.allow_url_hosts` does not list. `data.setting` names the setting, `data.reason` what did not fit (`command`, `args`, `env`, `cwd`; `scheme`, `unresolved`, `loopback`, `private`, `link-local`, `unspecified`, `multicast`, `reserved`).',
  REGISTER_LIMIT:
    '`register_server` when `limits.max_runtime_backends` servers registered at runtime already exist (32 by default; `0` turns registration off). `data.limit` and `data.count` say how many; remove one with `remove_server`, or raise the limit.',
  ACCESS_DENIED:
    "With `http.auth.rules`, the caller's token does not allow this tool, the backend tool `call_backend` names, the pipeline `route_pipeline` runs, or this gateway tool, and no scope would (when one would, the HTTP answer is `403 insufficient_scope` instead). The message names what was refused and the caller; see [authorization](../guides/authorization.md#who-may-use-what-rules).",
  PIPELINE_INVALID:
    'The pipeline (a file, or a `custom` one sent inline) has problems, each at `file:line:col`; nothing ran.',
  PIPELINE_UNKNOWN: '`route_pipeline` with a scenario no pipeline has; the message lists the pipelines.',
  PIPELINE_FAILED:
    'Reserved. A run that fails is reported as a run result with `status: failed` and `failedStep`, and `isError: true`.',
  REPLAY_MISSING:
    '`mcp-gateway run --replay` or `mcp-gateway test` asked for a backend call the recording does not hold (or holds fewer times than asked). The message names the server, tool and arguments, and the closest recorded call of that tool with the argument keys that differ; record again, or fix the inputs. A step failing this way fails the run.',
  RECORDING_INVALID:
    "A recording (`--replay FILE`, a test's `recording:`) or a pipeline test file (`*.test.yaml`) does not follow its schema (schemas/recording.schema.json, schemas/pipeline-test.schema.json); each problem is at `file:line:col`.",
  RATE_LIMITED:
    'A `tools/call` over HTTP went over a `rate_limits` limit or a concurrency cap (`rate_limits.in_flight`: calls at once), per caller, per profile or per server, counted across replicas with `cluster.redis`. Over HTTP it is answered with status 429 and `Retry-After` (seconds) and a JSON-RPC error whose `data` has `code`, `limit` (the setting), `retryAfterMs` and, for a cap, `max`; wait and retry. With `when_redis_down: closed` and Redis unreachable, status 503 with `reason: unavailable`.',
  CLUSTER_UNAVAILABLE:
    "The cluster's Redis (`cluster.redis`) could not be reached: `register_server` and `remove_server` are refused rather than applied on one replica only, and `list_servers` shows the error in place of the cluster's status. Calls to backends already serving go on. The gateway reconnects by itself; retry shortly.",
  USAGE:
    'The gateway cannot serve as asked: HTTP off loopback without a token, or a port it cannot listen on; `serve` then exits with code 1. (Bad command-line usage is not this code: it exits with code 2.)',
};

/**
 * What each `TypeProblemCode` (src/pipeline/type-check/check.ts) means, for docs/reference/errors.md.
 * These are problems in a pipeline file, found by the data-flow check, not errors a call returns.
 */
export const TYPE_PROBLEM_DOCS: Record<string, string> = {
  TYPE_MISMATCH:
    "A `${{ }}` value cannot fit the parameter it feeds, per the tool's `inputSchema` (or the called pipeline's `inputs`) and what the value reads (a tool's `outputSchema`, the pipeline's `inputs`, a CEL expression's type). An error when the value's type is certain (`validate` exits 1; a `custom` pipeline is refused); a warning when it is known only in part (a union, an arithmetic guess) or only some of its values do not fit (`a string or null` for a string). Also a `for_each` whose value is surely not a list.",
  TYPE_UNCHECKED:
    'A warning: the value reads a part of an output schema that the schema does not describe (a property it does not list, in an object open to more), so whether it fits the typed parameter it feeds cannot be told.',
  TYPE_NO_SUCH_FIELD:
    'A warning: the schema says the part read cannot be there (a property an object with `additionalProperties: false` does not list): the value is always missing, so the parameter gets its default. Usually a typo.',
};
