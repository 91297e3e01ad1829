export const HELP = `mcp-gateway — one MCP endpoint in front of many MCP servers

Usage:
  mcp-gateway [serve] [options]         serve the gateway (default command)
  mcp-gateway list [options]            connect to the backends, list them and their tools, exit
  mcp-gateway --help | --version

Options for serve and list:
  -c, --config FILE          gateway config (default: ./gateway.yaml if it exists)
  --auto-register FILE       also start the servers of a Claude Desktop style JSON file
                             ({"mcpServers": {...}})

Options for serve:
  --transport stdio|streamable-http   how clients connect (default: stdio)
  --port N                   HTTP port (default: http.port in the config, else 8003)
  --host H                   HTTP bind address (default: 127.0.0.1; off loopback a token is required)

Environment:
  MCP_GATEWAY_TOKEN          bearer token for HTTP clients (when the config sets none)
  MCP_GATEWAY_LOG_LEVEL      debug | info | warn | error (logs go to stderr)
`;
