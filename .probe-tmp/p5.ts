import { parseDocument, Parser, type CST } from 'yaml';
function tooDeepAt(text: string, max: number): number | undefined {
  const stack: [CST.Token, number][] = [];
  for (const token of new Parser().parse(text)) if (token.type === 'document' && token.value) stack.push([token.value, 0]);
  while (stack.length > 0) {
    const [tok, depth] = stack.pop()!;
    if (tok.type !== 'block-map' && tok.type !== 'block-seq' && tok.type !== 'flow-collection') continue;
    if (depth + 1 > max) return tok.offset;
    for (const item of tok.items) {
      if ('key' in item && item.key) stack.push([item.key, depth + 1]);
      if (item.value) stack.push([item.value, depth + 1]);
    }
  }
  return undefined;
}
let big = 'name: big\nsteps:\n';
for (let i = 0; i < 1000; i++) big += `  s${i}:\n    server: a\n    tool: b\n    needs: [s${Math.max(0, i - 1)}]\n    args: { x: "\${{ $.steps.s${Math.max(0,i-1)}.output }}", y: [1, 2, {z: 3}] }\n`;
console.log('bytes', big.length);
for (const [label, f] of [['parseDocument', () => parseDocument(big)], ['depth', () => tooDeepAt(big, 100)]] as const) {
  for (let i = 0; i < 3; i++) f();
  const t = performance.now(); for (let i = 0; i < 10; i++) f(); console.log(label, ((performance.now() - t) / 10).toFixed(2), 'ms');
}
const cases = { flow: '['.repeat(10000) + ']'.repeat(10000), dash: '- '.repeat(10000) + 'x', indent: Array.from({ length: 1400 }, (_, i) => ' '.repeat(i) + 'a:').join('\n') + ' 1', map: 'a:\n  b:\n    - c: [{d: [1]}]', key: '? [[[[[[1]]]]]]\n: 1' };
for (const [k, t] of Object.entries(cases)) console.log(k, tooDeepAt(t, 100), tooDeepAt(t, 5));
