/** The config module's public face. */
export {
  type AuthRule,
  type AuthSettings,
  DEFAULT_AUTH_ALGORITHMS,
  DEFAULT_CLOCK_SKEW_MS,
  type IntrospectionSettings,
} from './auth-settings.js';
export {
  loadClaudeDesktopFile,
  loadClaudeDesktopFile as loadAutoRegisterFile,
  parseClaudeDesktopText,
} from './claude-desktop.js';
export {
  ADVERTISE_URL_ENV,
  type ClusterSettings,
  DEFAULT_KEY_PREFIX,
  type InFlightCaps,
  type RateLimit,
  type RateLimitSettings,
  REDIS_URL_ENV,
  REPLICA_ID_ENV,
  shownRedisUrl,
} from './cluster.js';
export {
  DURATION_HINT,
  DURATION_PATTERN,
  formatDuration,
  MAX_DURATION_MS,
  parseDuration,
} from './duration.js';
export { type Env, expandString } from './expand.js';
export { DEFAULT_HTTP_HOST, TOKEN_ENV } from './http-settings.js';
export { serverConfigFromInput } from './input.js';
export {
  type AddressClass,
  classifyAddress,
  formatIp,
  type IpAddress,
  type IpRange,
  parseIp,
  parseRange,
  rangeContains,
} from './ip-range.js';
export { configError, formatIssue, loadConfigFile, parseConfigText } from './load.js';
export {
  PREFIX_MAX,
  RESERVED_SERVER_NAMES,
  SERVER_NAME_MAX,
  servedPrefix,
  TOOL_SEPARATOR,
  validateServerName,
} from './names.js';
export { DEFAULT_PIPELINES_DIR, defaultConfig } from './normalize.js';
export { closest, pointerToPath } from './problems.js';
export { DEFAULT_PROFILE } from './profiles.js';
export { commandKey, parseHostEntry, REST_ARGS } from './register-allow.js';
export { gatewaySchema } from './schema.js';
export { splitShellArgs } from './shell-split.js';
export { formatSize, MAX_SIZE_BYTES, parseSize, SIZE_HINT, SIZE_PATTERN } from './size.js';
export { MAX_ALIAS_COUNT } from './source.js';
export { GLOB_OPTIONS, globProblem, serverSurface, surfaceSettings } from './surface.js';
export * from './types.js';
export { MAX_YAML_DEPTH, parseYamlDocument } from './yaml.js';
