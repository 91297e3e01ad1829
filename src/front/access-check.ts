/**
 * What a served tool reaches, in the terms of `http.auth.rules` (src/auth): a backend's tool, a
 * pipeline or one of the gateway's own tools — and, for `call_backend` and `route_pipeline`, also
 * the backend tool or pipeline named in the arguments. Used for tools/list, tools/call and the
 * HTTP front's step-up check alike.
 */
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Access, AccessTarget } from '../auth/index.js';
import { AuthFailure, accessFor, callerLabel, callerOf, scopesToReach } from '../auth/index.js';
import type { AuthSettings } from '../config/index.js';
import { PIPELINE_TOOL_PREFIX } from './naming.js';
import type { ProtocolHub } from './protocol-hub.js';
import type { ServedTool } from './served-tool.js';
import type { ToolTable } from './tool-table.js';

/** What listing `name` reaches. */
export function listedTarget(name: string, tool: ServedTool): AccessTarget {
  if (tool.backend !== undefined)
    return { kind: 'backend', server: tool.backend, tool: tool.backendTool ?? name, served: name };
  if (name.startsWith(PIPELINE_TOOL_PREFIX))
    return { kind: 'pipeline', pipeline: name.slice(PIPELINE_TOOL_PREFIX.length) };
  return { kind: 'meta', name };
}

/** Everything calling `name` with `args` reaches; every one must be allowed. */
export function callTargets(name: string, tool: ServedTool, args: unknown): AccessTarget[] {
  const targets = [listedTarget(name, tool)];
  const a = (args ?? {}) as Record<string, unknown>;
  if (name === 'call_backend' && typeof a.server === 'string' && typeof a.tool === 'string')
    targets.push({ kind: 'backend', server: a.server, tool: a.tool });
  if (name === 'route_pipeline' && typeof a.scenario === 'string')
    targets.push({ kind: 'pipeline', pipeline: a.scenario });
  return targets;
}

/** The Access of a request, under the rules read now (a config reload changes them). */
export function accessOf(authInfo: AuthInfo | undefined, auth: () => AuthSettings | undefined): Access {
  return accessFor(callerOf(authInfo), auth()?.rules);
}

/**
 * The HTTP front's step-up check: a tools/call the caller may not make, but would with a scope its
 * token lacks, is refused with 403 insufficient_scope naming that scope, so the client can ask the
 * authorization server for it. Any other refusal is left to tools/call (ACCESS_DENIED).
 */
export function stepUpCheck(table: ToolTable, auth: () => AuthSettings | undefined) {
  return (authInfo: AuthInfo, body: unknown): AuthFailure | undefined => {
    const settings = auth();
    if (!settings?.rules || Array.isArray(body)) return undefined;
    const message = body as { method?: unknown; params?: { name?: unknown; arguments?: unknown } } | null;
    if (message?.method !== 'tools/call' || typeof message.params?.name !== 'string') return undefined;
    const name = message.params.name;
    const tool = table.get(name);
    if (!tool) return undefined;
    const caller = callerOf(authInfo);
    const access = accessFor(caller, settings.rules);
    const denied = callTargets(name, tool, message.params.arguments).filter((t) => !access.allows(t));
    if (denied.length === 0) return undefined;
    const needed = new Set<string>();
    for (const target of denied) {
      const scopes = scopesToReach(caller, settings.rules, target);
      if (scopes.length === 0) return undefined;
      for (const s of scopes) needed.add(s);
    }
    return new AuthFailure(
      'insufficient_scope',
      `${name} needs a scope ${callerLabel(caller) ?? 'the caller'} does not have`,
      [...new Set([...settings.requiredScopes, ...(caller?.scopes ?? []), ...needed])],
    );
  };
}

/** A target as a refusal names it. */
export function describeTarget(target: AccessTarget): string {
  switch (target.kind) {
    case 'backend':
      return `tool ${target.tool} of server ${target.server}`;
    case 'pipeline':
      return `pipeline ${target.pipeline}`;
    case 'meta':
      return `the gateway tool ${target.name}`;
    case 'resource':
      return `resource ${target.uri} of server ${target.server}`;
    case 'prompt':
      return `prompt ${target.name} of server ${target.server}`;
  }
}

/** Of resource URIs to watch (subscriptions/listen), those `access` allows; unknown ones are kept (they fail on their own). */
export async function mayWatch(hub: ProtocolHub, access: Access, uris: string[]): Promise<string[]> {
  if (access.unrestricted) return uris;
  const verdicts = await Promise.all(
    uris.map(async (uri) => {
      const target = await hub.accessTarget('resource', uri);
      return !target || access.allows(target);
    }),
  );
  return uris.filter((_, i) => verdicts[i]);
}
