import {
  CompleteResultSchema,
  GetPromptResultSchema,
  ReadResourceResultSchema,
} from '@modelcontextprotocol/core';
import {
  type CompleteRequest,
  type CompleteResult,
  type GetPromptRequest,
  type GetPromptResult,
  ProtocolError,
  ProtocolErrorCode,
  type ReadResourceRequest,
  type ReadResourceResult,
} from '@modelcontextprotocol/server';
import { type BackendRegistry, type ClientRequester, sendRouted } from '../backends/index.js';
import type { AggregatedLists } from './aggregated-lists.js';
import { routeToBackend } from './backend-route.js';

// The requests a client makes of one backend through the gateway: the served name or URI maps back to
// the backend's own (served-names.ts), and URIs in the answer get their served form.

/** Who a routed request is for: its signal, and where what the backend asks during it goes. */
export interface RouteContext {
  signal: AbortSignal;
  /** The client's requester (its session, or the bridge's parking one); none: asks are refused. */
  requester?: ClientRequester | undefined;
}

/** The client's params without what belongs to its own round trips with the gateway (src/bridge). */
function forBackend<P extends object>(params: P): P {
  const {
    inputResponses: _answers,
    requestState: _state,
    ...rest
  } = params as P & {
    inputResponses?: unknown;
    requestState?: unknown;
  };
  return rest as P;
}

export async function readResource(
  registry: BackendRegistry,
  lists: AggregatedLists,
  params: ReadResourceRequest['params'],
  { signal, requester }: RouteContext,
): Promise<ReadResourceResult> {
  const target = await lists.resolveUri(params.uri);
  const result = await routeToBackend(
    registry,
    { server: target.server, capability: 'resources', method: 'resources/read', signal },
    (_client, _options, live) =>
      sendRouted(live, {
        server: target.server,
        method: 'resources/read',
        params: { ...forBackend(params), uri: target.uri },
        schema: ReadResourceResultSchema,
        requester,
      }),
  );
  return {
    ...result,
    contents: result.contents.map((c) => ({ ...c, uri: lists.names.uri(target.server, c.uri) })),
  };
}

export async function getPrompt(
  registry: BackendRegistry,
  lists: AggregatedLists,
  params: GetPromptRequest['params'],
  { signal, requester }: RouteContext,
): Promise<GetPromptResult> {
  const target = await lists.resolvePrompt(params.name);
  if (!target) {
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      `Unknown prompt: ${params.name}. Prompts are served as <server>__<prompt> (or with the server's prefix); prompts/list shows them.`,
    );
  }
  const result = await routeToBackend(
    registry,
    { server: target.server, capability: 'prompts', method: 'prompts/get', signal },
    (_client, _options, live) =>
      sendRouted(live, {
        server: target.server,
        method: 'prompts/get',
        params: { ...forBackend(params), name: target.name },
        schema: GetPromptResultSchema,
        requester,
      }),
  );
  // Resources embedded in (or linked from) the messages get their served URIs, so they can be read.
  const uri = (u: string) => lists.names.uri(target.server, u);
  const messages = result.messages.map((m) => {
    const c = m.content;
    if (c.type === 'resource')
      return {
        ...m,
        content: { ...c, resource: { ...c.resource, uri: uri(c.resource.uri) } },
      };
    if (c.type === 'resource_link') return { ...m, content: { ...c, uri: uri(c.uri) } };
    return m;
  });
  return { ...result, messages };
}

export async function complete(
  registry: BackendRegistry,
  lists: AggregatedLists,
  params: CompleteRequest['params'],
  signal: AbortSignal,
): Promise<CompleteResult> {
  const ref = params.ref;
  let server: string;
  let backendRef: CompleteRequest['params']['ref'];
  if (ref.type === 'ref/prompt') {
    const target = await lists.resolvePrompt(ref.name);
    if (!target) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${ref.name}`);
    server = target.server;
    backendRef = { ...ref, name: target.name };
  } else {
    const target = await lists.resolveTemplate(ref.uri);
    if (!target) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Unknown resource template: ${ref.uri}. Templates are served as mcpgw://<server>/<template>; resources/templates/list shows them.`,
      );
    }
    server = target.server;
    backendRef = { ...ref, uri: target.uri };
  }
  return routeToBackend(
    registry,
    { server, capability: 'completions', method: 'completion/complete', signal },
    (client, options) =>
      client.request(
        { method: 'completion/complete', params: { ...params, ref: backendRef } },
        CompleteResultSchema,
        options,
      ),
  );
}
