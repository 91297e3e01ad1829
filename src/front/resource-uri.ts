import { NAMESPACE_SEPARATOR } from './naming.js';

/**
 * How backend resources and prompts are named on the front.
 *
 * A resource (or template) URI is served as `mcpgw://<server>/<the backend's URI, verbatim>`:
 * `demo://resource/static/document/a.md` of server `everything` is
 * `mcpgw://everything/demo://resource/static/document/a.md`. Server names hold no `/`, so the first
 * `/` after the scheme ends the server name and the rest is the backend's URI, byte for byte; a
 * template's variables therefore expand exactly as they would against the backend. Prompts are
 * served as `<server>__<prompt>`, like tools.
 */
export const GATEWAY_URI_PREFIX = 'mcpgw://';

export function gatewayUri(server: string, uri: string): string {
  return `${GATEWAY_URI_PREFIX}${server}/${uri}`;
}

/** The backend and its own URI for a gateway URI; undefined when `uri` is not one. */
export function parseGatewayUri(uri: string): { server: string; uri: string } | undefined {
  if (!uri.startsWith(GATEWAY_URI_PREFIX)) return undefined;
  const rest = uri.slice(GATEWAY_URI_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  return { server: rest.slice(0, slash), uri: rest.slice(slash + 1) };
}

/** The backend and its own name for a served `<server>__<name>`; undefined without a separator. */
export function parseNamespaced(name: string): { server: string; name: string } | undefined {
  const at = name.indexOf(NAMESPACE_SEPARATOR);
  if (at <= 0) return undefined;
  return { server: name.slice(0, at), name: name.slice(at + NAMESPACE_SEPARATOR.length) };
}
