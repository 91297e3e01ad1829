import { Lexer } from 'yaml';
for (const t of ['['.repeat(1_000_000), '{a: '.repeat(250_000), '- '.repeat(500_000) + 'x', '? '.repeat(500_000), Array.from({ length: 1400 }, (_, i) => ' '.repeat(i) + 'a:').join('\n'), 'a: "x\n  y [ "\nb: |\n  - - [\n   {\nc: [1, {d: 2}]\n']) {
  const s = performance.now(); let c = 0; const toks: string[] = [];
  for (const tok of new Lexer().lex(t)) { c++; if (toks.length < 40) toks.push(tok); }
  console.log('ok', c, (performance.now() - s).toFixed(0), t.length < 100 ? JSON.stringify(toks) : '');
}
