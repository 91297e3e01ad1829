import { parseDocument, LineCounter, Parser } from 'yaml';
const n = Number(process.argv[2]);
const kind = process.argv[3];
const text = kind === 'flow' ? '['.repeat(n) + ']'.repeat(n) : kind === 'map' ? '{a:'.repeat(n) + '1' + '}'.repeat(n) : '';
const strict = process.argv[4] === 'strict';
const t = performance.now();
if (process.argv[5] === 'cst') {
  let c = 0; for (const tok of new Parser().parse(text)) c++;
  console.log('cst ok', c, performance.now() - t);
} else {
const doc = parseDocument(text, { lineCounter: new LineCounter(), uniqueKeys: true, prettyErrors: false, ...(strict ? { strict: true } : {}) });
console.log('parsed', doc.errors.map(e => e.message.slice(0, 100)), performance.now() - t);
try { doc.toJS({ maxAliasCount: 100 }); console.log('toJS ok'); } catch (e) { console.log('toJS threw', (e as Error).message); }
}
