import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  defaultConfig,
  formatIssue,
  type GatewayConfig,
  loadAutoRegisterFile,
  loadConfigFile,
  type ServerConfig,
} from '../config/index.js';
import { UsageError } from './args.js';

export const DEFAULT_CONFIG_FILE = 'gateway.yaml';

/** A config that could not be loaded; every problem is in `lines`, already formatted file:line:col. */
export class ConfigLoadError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

/**
 * The config the user meant: the file they named (which must exist), else ./gateway.yaml when there
 * is one, else an empty config rooted at the current folder.
 */
export async function resolveConfig(
  configPath: string | undefined,
  cwd = process.cwd(),
): Promise<GatewayConfig> {
  const file = configPath ? path.resolve(cwd, configPath) : path.resolve(cwd, DEFAULT_CONFIG_FILE);
  if (!existsSync(file)) {
    if (configPath) throw new UsageError(`config file not found: ${configPath}`);
    return defaultConfig(cwd);
  }
  const result = await loadConfigFile(file);
  if (!result.ok) throw new ConfigLoadError(result.errors.map(formatIssue));
  return result.config;
}

export async function resolveAutoRegister(
  file: string | undefined,
  config: GatewayConfig,
): Promise<ServerConfig[]> {
  if (!file) return [];
  const absolute = path.resolve(file);
  if (!existsSync(absolute)) throw new UsageError(`--auto-register file not found: ${file}`);
  const result = await loadAutoRegisterFile(absolute);
  if (!result.ok) throw new ConfigLoadError(result.errors.map(formatIssue));
  const taken = new Set(config.servers.map((s) => s.name));
  const clashes = result.servers.filter((s) => taken.has(s.name)).map((s) => s.name);
  if (clashes.length) {
    throw new ConfigLoadError([
      `${file}: server name(s) already defined in ${config.file ?? 'the config'}: ${clashes.join(', ')}`,
    ]);
  }
  return result.servers;
}
