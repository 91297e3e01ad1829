import { Parser } from 'yaml';
for (const t of ['['.repeat(1_000_000), '{a: '.repeat(250_000), '- '.repeat(500_000) + 'x', '? '.repeat(500_000)]) {
  const s = performance.now(); let c = 0; try { for (const _ of new Parser().parse(t)) c++; console.log('ok', c, (performance.now() - s).toFixed(0)); } catch (e) { console.log('threw', (e as Error).message, (performance.now() - s).toFixed(0)); }
}
