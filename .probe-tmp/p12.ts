import { parseConfigText, formatIssue } from '../src/config/index.ts';
const S = 'Zq9-SECRET-VALUE-77x';
const env = { SECRET: S };
const places = [
  'timeout: "${SECRET}"', 'pipelines: "${SECRET}"', 'tools: { meta: "${SECRET}" }', 'http: { host: "${SECRET}" }', 'http: { port: "${SECRET}" }', 'http: { token: "${SECRET}", allowed_hosts: ["${SECRET}"] }', 'http: { allow_commands: "${SECRET}" }',
  'servers: { a: { command: x, timeout: "${SECRET}" } }', 'servers: { a: { command: x, type: "${SECRET}" } }', 'servers: { a: { url: "${SECRET}" } }', 'servers: { a: { url: "http://x/${SECRET}", headers: { A: "${SECRET}" }, env: { B: "${SECRET}" } } }',
  'servers: { a: { command: x, args: "${SECRET} \'unterminated" } }', 'servers: { a: { command: x, enabled: "${SECRET}" } }', 'servers: { a: { command: x, cwd: 5, env: "${SECRET}" } }', 'servers: { a: { command: x, env: { K: "${SECRET}" }, headers: { H: "${SECRET}" } } }',
  'servers: { a: { command: "${SECRET}", url: "${SECRET}" } }', 'servers: { a: { command: x, description: ["${SECRET}"] } }', 'servers: { a: { command: x, unknown: "${SECRET}" } }', 'servers: "${SECRET}"', 'servers: { a: "${SECRET}" }', '${SECRET}',
  'mcpServers: { a: { command: x, args: ["${SECRET}", 1] } }', 'servers: { a: { command: x, args: ["${SECRET}", { a: 1 }] } }', 'servers: { a: { command: x, env: { K: ["${SECRET}"] } } }', 'servers: { a: { command: x, timeout: "${SECRET}s" } }', 'timeout: "1${SECRET}"',
];
for (const p of places) {
  const r = parseConfigText(p, 'g.yaml', env);
  const text = JSON.stringify(r);
  if (text.includes(S) && !r.ok) console.log('LEAK', p, '\n   ', (r.ok ? [] : r.errors).map(formatIssue).join(' | '));
  else if (!r.ok) console.log('ok  ', p, '→', r.errors.map(formatIssue).join(' | ').slice(0, 150));
  else console.log('valid', p);
}
