/**
 * `http.auth`: the gateway as an OAuth 2.1 resource server (see docs/guides/authorization.md). Its
 * own module so the rest of the config stays as it was; `normalize.ts` calls {@link authSettings}.
 */
import { secrets } from '../secrets.js';
import { parseDuration } from './duration.js';
import type { Problem, Segment } from './problems.js';

/** Signing algorithms accepted when `algorithms` is not given: asymmetric only (no shared-secret HS*). */
export const DEFAULT_AUTH_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
export const DEFAULT_CLOCK_SKEW_MS = 30_000;

export interface AuthSettings {
  /** The authorization server's issuer identifier (`iss` of its tokens). */
  issuer: string;
  /**
   * The canonical URL of the gateway's MCP endpoint (`https://gw.example.com/mcp`): the audience its
   * tokens must carry (RFC 8707). Another endpoint's resource is this URL's origin plus its path.
   */
  audience: string;
  /** Where the signing keys are; default: `jwks_uri` of the issuer's metadata. */
  jwksUri?: string;
  algorithms: string[];
  clockSkewMs: number;
  /** Scopes every request needs; a token without one gets 403 insufficient_scope. */
  requiredScopes: string[];
  /** Scopes named in the protected-resource metadata; default: required ∪ the rules' scopes. */
  scopesSupported?: string[];
  /** Authorization servers named in the metadata; default: [issuer]. */
  authorizationServers: string[];
  /** Dotted claim path holding the caller's groups (`groups`, Keycloak: `realm_access.roles`). */
  groupsClaim: string;
  /** RFC 7662 introspection, for opaque (non-JWT) tokens. */
  introspection?: IntrospectionSettings;
  /** Who may use what; absent: every authenticated caller may use everything. */
  rules?: AuthRule[];
}

export interface IntrospectionSettings {
  url: string;
  clientId?: string;
  clientSecret?: string;
}

/** One rule: when a caller matches `when`, it may use what the rule lists (rules add up). */
export interface AuthRule {
  name: string;
  /** Each key lists alternatives (any of); every key given must match. Empty: every caller. */
  when: { scopes?: string[]; groups?: string[]; subjects?: string[]; clients?: string[] };
  /** Globs of backend names: every tool of these backends. */
  servers: string[];
  /** Globs of served tool names (`sqlite__read_*`). */
  tools: string[];
  /** Globs of pipeline names (`pipeline__<name>`, route_pipeline's scenario). */
  pipelines: string[];
  /** Globs of the gateway's own tools (`list_servers`, `register_server`, …). */
  meta: string[];
  /** Globs of resource URIs and templates (served or the backend's own); `servers` covers a backend's too. */
  resources: string[];
  /** Globs of prompt names (served or the backend's own); `servers` covers a backend's too. */
  prompts: string[];
  /** Globs of profile names. */
  profiles: string[];
}

type Data = Record<string, unknown>;
const isData = (v: unknown): v is Data => v !== null && typeof v === 'object' && !Array.isArray(v);
const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
const strings = (v: unknown) => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

/** `http.auth` → AuthSettings, or undefined when absent or unusable (the problems say why). */
export function authSettings(raw: unknown, problems: Problem[]): AuthSettings | undefined {
  if (!isData(raw)) return undefined;
  const path: Segment[] = ['http', 'auth'];
  const issuer = urlValue(raw.issuer, [...path, 'issuer'], problems);
  const audience = urlValue(raw.audience, [...path, 'audience'], problems);
  // A missing issuer or audience is the schema's to report (`required`).
  const jwksUri =
    raw.jwks_uri === undefined ? undefined : urlValue(raw.jwks_uri, [...path, 'jwks_uri'], problems);
  let clockSkewMs = DEFAULT_CLOCK_SKEW_MS;
  if (typeof raw.clock_skew === 'string' || typeof raw.clock_skew === 'number') {
    try {
      clockSkewMs = parseDuration(raw.clock_skew);
    } catch (err) {
      problems.push({ path: [...path, 'clock_skew'], text: (err as Error).message });
    }
  }
  const algorithms = strings(raw.algorithms);
  const introspection = introspectionSettings(raw.introspection, [...path, 'introspection'], problems);
  const rules = Array.isArray(raw.rules)
    ? raw.rules.map((r, i) => ruleValue(r, i, [...path, 'rules', i]))
    : undefined;
  if (!issuer || !audience) return undefined;
  return {
    issuer,
    audience,
    ...(jwksUri ? { jwksUri } : {}),
    algorithms: algorithms.length > 0 ? algorithms : DEFAULT_AUTH_ALGORITHMS,
    clockSkewMs,
    requiredScopes: strings(raw.required_scopes),
    ...(Array.isArray(raw.scopes_supported) ? { scopesSupported: strings(raw.scopes_supported) } : {}),
    authorizationServers: Array.isArray(raw.authorization_servers)
      ? strings(raw.authorization_servers)
      : [issuer],
    groupsClaim: text(raw.groups_claim) ?? 'groups',
    ...(introspection ? { introspection } : {}),
    ...(rules ? { rules } : {}),
  };
}

function urlValue(value: unknown, path: Segment[], problems: Problem[]): string | undefined {
  const s = text(value);
  if (s === undefined) return undefined;
  try {
    const url = new URL(s);
    if (url.protocol === 'https:' || url.protocol === 'http:') return s;
  } catch {
    // reported below
  }
  problems.push({ path, text: 'expected an http:// or https:// URL' });
  return undefined;
}

function introspectionSettings(raw: unknown, path: Segment[], problems: Problem[]) {
  if (!isData(raw)) return undefined;
  const url = urlValue(raw.url, [...path, 'url'], problems);
  if (!url) return undefined;
  const clientSecret = text(raw.client_secret);
  if (clientSecret) secrets.add(clientSecret, '<introspection client secret>');
  const clientId = text(raw.client_id);
  return {
    url,
    ...(clientId ? { clientId } : {}),
    ...(clientSecret ? { clientSecret } : {}),
  } satisfies IntrospectionSettings;
}

function ruleValue(raw: unknown, index: number, _path: Segment[]): AuthRule {
  const r = isData(raw) ? raw : {};
  const when = isData(r.when) ? r.when : {};
  const list = (key: string) => (Array.isArray(when[key]) ? { [key]: strings(when[key]) } : {});
  return {
    name: text(r.name) ?? `rule ${index + 1}`,
    when: { ...list('scopes'), ...list('groups'), ...list('subjects'), ...list('clients') },
    servers: strings(r.servers),
    tools: strings(r.tools),
    pipelines: strings(r.pipelines),
    meta: strings(r.meta),
    resources: strings(r.resources),
    prompts: strings(r.prompts),
    profiles: strings(r.profiles),
  };
}
