import { parseDocument, Parser } from 'yaml';
const kinds: Record<string, (n: number) => string> = {
  flow: (n) => '['.repeat(n) + ']'.repeat(n),
  map: (n) => '{a:'.repeat(n) + '1' + '}'.repeat(n),
  dash: (n) => '- '.repeat(n) + 'x',
  indent: (n) => Array.from({ length: n }, (_, i) => ' '.repeat(i) + 'a:').join('\n') + ' 1',
  json: (n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n),
};
for (const [k, f] of Object.entries(kinds)) {
  for (const n of [50, 100, 200, 300, 400, 600]) {
    const doc = parseDocument(f(n));
    const err = doc.errors[0]?.message.slice(0, 40);
    if (err) { console.log(k, n, err); break; }
  }
  console.log(k, 'cst 10000', (() => { let c = 0; for (const t of new Parser().parse(f(k === 'indent' ? 1400 : 10000))) c++; return c; })());
}
