/**
 * `approve_tool`: serve again a pinned tool whose definition changed (src/surface/pins.ts). Approving
 * tells models something new, so it is allowed only where the caller could as well add a backend of
 * its own choosing (register-policy.ts): over stdio (the local user), and over HTTP only when the
 * config lets HTTP callers start programs (`http.allow_commands` not empty). With
 * `limits.max_runtime_backends: 0` (registration off) it is refused everywhere; the CLI
 * (`mcp-gateway tools approve`) always works, for whoever can write the pins file.
 */
import type { GatewayConfig } from '../config/index.js';
import { GatewayError } from '../errors.js';
import type { Surface } from '../surface/index.js';
import { jsonResult, type ServedTool } from './served-tool.js';
import { requireString } from './tool-args.js';

export function approveTool(surface: Surface, config: () => GatewayConfig): ServedTool {
  return {
    definition: {
      name: 'approve_tool',
      title: 'Approve a changed tool definition',
      description:
        'Serve again a tool of a server with pin: true whose definition changed and is withheld; list_servers shows such tools under definitionChanges. Allowed where register_server may start programs.',
      inputSchema: {
        type: 'object',
        properties: {
          server: { type: 'string', description: 'Backend server name' },
          tool: { type: 'string', description: "The backend's own tool name" },
        },
        required: ['server', 'tool'],
      },
    },
    async call(args, ctx) {
      const server = requireString(args, 'server', 'approve_tool');
      const tool = requireString(args, 'tool', 'approve_tool');
      const why = approvalRefused(ctx.transport, config());
      if (why) throw new GatewayError('REGISTER_REFUSED', `approve_tool: ${why}`, { server, tool });
      if (!surface.pins.approve(server, tool)) {
        throw new GatewayError(
          'PARAMS_INVALID',
          `approve_tool: no change of tool '${tool}' of server '${server}' waits for approval`,
          { server, tool },
        );
      }
      return jsonResult(
        { approved: { server, tool } },
        `approved: tool '${tool}' of server '${server}' is served again`,
      );
    },
  };
}

/** Why approve_tool is refused to a caller over `transport`, or undefined when it is allowed. */
export function approvalRefused(transport: 'stdio' | 'http', config: GatewayConfig): string | undefined {
  if (config.limits.maxRuntimeBackends === 0)
    return 'registration is turned off (limits.max_runtime_backends is 0); use "mcp-gateway tools approve SERVER TOOL"';
  if (transport === 'http' && config.http.allowCommands.length === 0)
    return 'over HTTP it is allowed only when http.allow_commands lets callers start programs; use "mcp-gateway tools approve SERVER TOOL"';
  return undefined;
}
