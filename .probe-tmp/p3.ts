import { parseConfigText } from '../src/config/index.ts';
import { validatePipelineText } from '../src/pipeline/index.ts';
const n = Number(process.argv[2]);
const text = '['.repeat(n) + ']'.repeat(n);
const t = performance.now();
const r = process.argv[3] === 'p' ? validatePipelineText(text) : parseConfigText(text, 'g.yaml', {});
console.log(JSON.stringify(r).slice(0, 300), performance.now() - t);
