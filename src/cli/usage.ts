export const HELP = `mcp-gateway — one MCP endpoint in front of many MCP servers

Usage:
  mcp-gateway [serve] [options]         serve the gateway (default command)
  mcp-gateway list [options]            connect to the backends, list them and their tools, exit
  mcp-gateway tools approve SERVER TOOL serve a pinned tool whose definition changed (tools pending lists them)
  mcp-gateway login SERVER [--config FILE] [--timeout 10m]
                                        log in once, in a browser, to an HTTP backend with
                                        oauth grant authorization_code; tokens are stored encrypted
  mcp-gateway validate [paths...] [--config FILE] [--offline] [--format text|json]
                                        check pipeline files and folders (default: the config's
                                        pipelines folder); every problem as file:line:col
  mcp-gateway run <name|file> [--input k=v ...] [--inputs-json JSON] [--json] [--config FILE]
          [--record FILE | --replay FILE]
                                        run a pipeline against the configured backends, each step
                                        live on stderr, then its output on stdout
  mcp-gateway test [paths...] [--config FILE] [--json]
                                        run the pipeline tests (*.test.yaml) against their
                                        recordings, no backend started (default: the config's
                                        pipelines folder)
  mcp-gateway graph <name|file> [--config FILE]
                                        print a pipeline's steps as a Mermaid flowchart
  mcp-gateway --help | --version

Options for serve and list:
  -c, --config FILE          gateway config (default: ./gateway.yaml if it exists)
  --auto-register FILE       also start the servers of a Claude Desktop style JSON file
                             ({"mcpServers": {...}})

Options for serve:
  --transport stdio|streamable-http   how clients connect (default: stdio)
  --port N                   HTTP port (default: http.port in the config, else 8003)
  --host H                   HTTP bind address (default: 127.0.0.1; off loopback a token is required)
  --pipelines DIR            serve the pipelines in DIR instead of the config's pipelines folder
  --no-watch                 do not reload the config file or the pipelines on change (hot reload is on by default)
  --shutdown-timeout D       how long stopping may take from the first stop signal (default:
                             shutdown_timeout in the config, else 10s); a second signal exits at once
  --log-format text|json     log lines as text (default) or one JSON object a line (time, level,
                             component, server, trace_id, span_id, msg); always on stderr
  --metrics-port N           serve Prometheus metrics at http://127.0.0.1:N/metrics (a listener of
                             its own; the token is required when one is set)
  --metrics-host H           bind the metrics listener to H (off loopback a token is required)
  --profile NAME             over stdio, serve only what profile NAME of the config allows

Options for list:
  --json                     print the backends and their tools as JSON
  --profile NAME             only the servers and tools profile NAME of the config serves

Options for validate:
  --offline                  do not start the backends: check server names only, not their tools
  --format text|json         text (default) or one JSON document for machines

Options for run:
  -i, --input KEY=VALUE      one input (repeatable); VALUE is read as JSON when it parses, else as
                             text; a list input also takes a,b,c or the key given again
  --inputs-json JSON         all inputs as one JSON object (--input entries override it)
  --json                     print the whole run result as JSON instead of the output
  --record FILE              write every backend call (arguments, result or error, timing) to FILE
  --replay FILE              answer every call from a recording instead: no backend is started,
                             a call it does not hold fails (REPLAY_MISSING); the recorded
                             inputs apply, --input / --inputs-json override them

Options for test:
  --json                     print one JSON document with every test and expectation

Exit codes: 0 success, 1 failure (invalid config or pipeline, failed run, a pipeline test failed or
none was found, backend not ready for list, serve could not start or its shutdown deadline cut calls
off), 2 bad usage, 130/143/129 serve stopped by a second SIGINT/SIGTERM/SIGHUP.

Environment:
  MCP_GATEWAY_TOKEN          bearer token for HTTP clients (when the config sets none)
  MCP_GATEWAY_LOG_LEVEL      debug | info | warn | error (logs go to stderr)
  OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL
  (http/protobuf | http/json), OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER(_ARG), OTEL_SDK_DISABLED
                             OpenTelemetry tracing: on when an OTLP endpoint is set
`;
