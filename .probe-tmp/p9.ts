import { LineCounter, parseDocument } from 'yaml';
import { parseYamlDocument } from '../src/config/yaml.ts';
let big = 'name: big\nsteps:\n';
for (let i = 0; i < 1000; i++) big += `  s${i}:\n    server: a\n    tool: b\n    needs: [s${Math.max(0, i - 1)}]\n    args: { x: "\${{ $.steps.s${Math.max(0,i-1)}.output }}", y: [1, 2, {z: 3}] }\n`;
for (const [label, f] of [['parseDocument', () => parseDocument(big, { lineCounter: new LineCounter() })], ['bounded', () => parseYamlDocument(big, { lineCounter: new LineCounter() })]] as const) {
  for (let i = 0; i < 5; i++) f();
  const t = performance.now(); for (let i = 0; i < 10; i++) f(); console.log(label, ((performance.now() - t) / 10).toFixed(2), 'ms');
}
