/** `register_server` input → `ServerConfig`, with the rules gateway.yaml entries follow. */
import { GatewayError } from '../errors.js';
import { validateServerName } from './names.js';
import { type Problem, problemMessage } from './problems.js';
import { schemaProblems } from './schema.js';
import { normalizeServer } from './servers.js';
import type { ServerConfig, ServerInput, ServerSource } from './types.js';

/**
 * Check and normalize a server sent at runtime. Relative `cwd` resolves against `baseDir`. No
 * `${VAR}` expansion: values arrive as they are meant. Throws `PARAMS_INVALID` naming each bad
 * field (`args: expected a list of strings, ...`), never echoing a value.
 */
export function serverConfigFromInput(
  input: ServerInput,
  source: ServerSource,
  baseDir: string,
): ServerConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new GatewayError('PARAMS_INVALID', 'expected an object with "name" and "command" or "url"');
  }
  const { name, ...rest } = input as ServerInput & Record<string, unknown>;
  const nameProblem = validateServerName(name);
  if (nameProblem) throw new GatewayError('PARAMS_INVALID', `name: ${nameProblem}`, { field: 'name' });

  const entry: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest))
    if (value !== undefined) entry[key] = structuredClone(value);
  const problems: Problem[] = schemaProblems('server', entry);
  const server = normalizeServer(name, entry, [], { baseDir, source }, problems);
  // Warnings (an override of a tool its own filters hide) do not refuse the server.
  const errors = problems.filter((p) => p.severity !== 'warning');
  if (server && errors.length === 0) return server;
  const messages = [...new Set(errors.map(problemMessage))];
  throw new GatewayError('PARAMS_INVALID', `invalid server ${JSON.stringify(name)}: ${messages.join('; ')}`, {
    server: name,
    issues: messages,
  });
}
