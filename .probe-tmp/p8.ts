import { LineCounter, parseDocument } from 'yaml';
import { parseYamlDocument } from '../src/config/yaml.ts';
import { readFileSync, readdirSync } from 'node:fs';
const cases: Record<string, string> = {
  flow: '['.repeat(10000) + ']'.repeat(10000),
  map: '{a:'.repeat(10000) + '1' + '}'.repeat(10000),
  dash: '- '.repeat(10000) + 'x',
  indent: Array.from({ length: 1400 }, (_, i) => ' '.repeat(i) + 'a:').join('\n') + ' 1',
  json: '{"a":'.repeat(10000) + '1' + '}'.repeat(10000),
  mixed: 'a:\n- b:\n  - c:\n    - d:\n'.repeat(1),
  quotedBracket: 'a: "[[[["\nb: ' + '- '.repeat(500) + 'x',
  megaFlow: '['.repeat(1_000_000),
  ok50: '['.repeat(50) + ']'.repeat(50),
  blockScalar: 'a: |\n' + Array.from({ length: 300 }, (_, i) => '  ' + ' '.repeat(i) + '- x').join('\n') + '\nb: 1',
  seqSameCol: Array.from({ length: 60 }, (_, i) => ' '.repeat(2 * i) + 'k:\n' + ' '.repeat(2 * i) + '-').join('\n'),
};
for (const [k, t] of Object.entries(cases)) {
  const s = performance.now();
  const doc = parseYamlDocument(t, { lineCounter: new LineCounter(), uniqueKeys: true, prettyErrors: false });
  console.log(k, (performance.now() - s).toFixed(0), 'ms', doc.errors.map((e) => `${e.code} ${e.message.slice(0, 80)} @${e.pos[0]}`));
}
// equivalence on fixtures
const files = [...readdirSync('test/fixtures/config').map((f) => `test/fixtures/config/${f}`), ...readdirSync('pipelines').map((f) => `pipelines/${f}`), 'gateway.yaml'];
for (const dir of ['test/fixtures/pipelines/good', 'test/fixtures/pipelines/broken']) for (const f of readdirSync(dir)) files.push(`${dir}/${f}`);
let same = 0;
for (const f of files) {
  const t = readFileSync(f, 'utf8');
  const lc1 = new LineCounter(); const lc2 = new LineCounter();
  const a = parseDocument(t, { lineCounter: lc1, uniqueKeys: true, prettyErrors: false });
  const b = parseYamlDocument(t, { lineCounter: lc2, uniqueKeys: true, prettyErrors: false });
  const eq = JSON.stringify([a.toJS({maxAliasCount: -1}), a.errors.map(e => [e.code, e.pos, e.message]), a.warnings.length, lc1.lineStarts]) === JSON.stringify([b.toJS({maxAliasCount: -1}), b.errors.map(e => [e.code, e.pos, e.message]), b.warnings.length, lc2.lineStarts]);
  if (eq) same++; else console.log('DIFF', f);
}
console.log('same', same, 'of', files.length);
