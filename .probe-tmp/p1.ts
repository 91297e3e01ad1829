import { validatePipelineText } from '../src/pipeline/index.ts';
import { parseConfigText } from '../src/config/index.ts';
import { compileExpression, evaluate } from '../src/pipeline/expr.ts';

function time<T>(label: string, fn: () => T): T {
  const t = performance.now();
  try {
    const r = fn();
    console.log(label, (performance.now() - t).toFixed(1), 'ms', JSON.stringify(r).slice(0, 300));
    return r;
  } catch (e) {
    console.log(label, 'THREW', (performance.now() - t).toFixed(1), 'ms', (e as Error).message.slice(0, 200), (e as Error).stack?.split('\n').slice(0,4).join(' | '));
    return undefined as T;
  }
}
const laughs = ['a: &a [x,x,x,x,x,x,x,x,x]'];
for (let i = 1; i < 10; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill('*' + String.fromCharCode(96 + i)).join(',')}]`);
const bomb = laughs.join('\n');
time('pipeline bomb', () => validatePipelineText(bomb));
time('config bomb', () => parseConfigText(bomb, 'g.yaml', {}));
const deepFlow = '['.repeat(10000) + ']'.repeat(10000);
time('pipeline deep flow', () => validatePipelineText(deepFlow));
time('config deep flow', () => parseConfigText(deepFlow, 'g.yaml', {}));
const deepMap = '{a:'.repeat(10000) + '1' + '}'.repeat(10000);
time('pipeline deep map', () => validatePipelineText(deepMap));
time('config deep map', () => parseConfigText(deepMap, 'g.yaml', {}));
let block = '';
for (let i = 0; i < 2000; i++) block += ' '.repeat(i) + 'a:\n';
time('pipeline deep block', () => validatePipelineText(block));
time('config deep block', () => parseConfigText(block, 'g.yaml', {}));
const deepSeq = Array.from({length: 3000}, (_, i) => ' '.repeat(i*2) + '-').join('\n');
time('pipeline deep seq', () => validatePipelineText(deepSeq));
const deepJson = '{"a":'.repeat(10000) + '1' + '}'.repeat(10000);
time('pipeline deep json', () => validatePipelineText(deepJson));
time('config deep json', () => parseConfigText(deepJson, 'g.json', {}));
const huge = 'a: ' + 'x'.repeat(2 * 1024 * 1024);
time('pipeline huge', () => validatePipelineText(huge));
time('config huge', () => parseConfigText(huge, 'g.yaml', {}));
// steps under deep
const deepSteps = 'name: p\nsteps:\n  s:\n    server: a\n    tool: b\n    args: ' + '{a:'.repeat(10000) + '1' + '}'.repeat(10000);
time('pipeline deep args', () => validatePipelineText(deepSteps));
const deepSteps2 = 'name: p\nsteps:\n  s:\n    server: a\n    tool: b\n    args: ' + '['.repeat(5000) + '"${{ $.inputs.x }}"' + ']'.repeat(5000);
time('pipeline deep args expr', () => validatePipelineText(deepSteps2));

for (const e of ['$..[?(@.x)]', '$.a[(@.length-1)]', '$.inputs[`x`]', '$.inputs.constructor', '$.inputs.__proto__', '$..constructor', '$.inputs..__proto__', '$.steps.a.output.constructor.constructor', "$.inputs['constructor']", '$.inputs[?@.x]', '$.inputs.*~', '$.inputs[*]', '$..*', '$.inputs[@.x]', '$.inputs[\'__proto__\'].polluted', '$.inputs["constructor"]["prototype"]']) {
  try { const c = compileExpression(e); console.log('compiled', e, c.plain, JSON.stringify(evaluate(c, { inputs: { x: 1, a: { b: 2 } }, steps: {} }))); } catch (err) { console.log('rejected', e, (err as Error).message); }
}
console.log('polluted?', ({} as any).polluted);
