import { parseConfigText, formatIssue } from '../src/config/index.ts';
const yaml = `
__proto__: { polluted: yes }
servers:
  constructor:
    command: node
    env: { __proto__: a, constructor: b, prototype: c }
  prototype:
    url: http://127.0.0.1:1/mcp
    headers: { __proto__: h }
  __proto__:
    command: node
`;
const r = parseConfigText(yaml, 'gateway.yaml', {});
console.log(r.ok ? JSON.stringify(r.config.servers, null, 1) : r.errors.map(formatIssue).join('\n'));
const r2 = parseConfigText(yaml.split('\n').slice(2, 9).join('\n'), 'gateway.yaml', {});
console.log(r2.ok ? JSON.stringify(r2.config.servers.map(s => [s.name, (s as any).env, (s as any).headers])) : r2.errors.map(formatIssue).join('\n'));
