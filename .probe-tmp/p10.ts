import { runPipeline, validatePipelineText } from '../src/pipeline/index.ts';
const r = validatePipelineText('name: p\ninputs:\n  x: { type: object, default: {} }\nsteps:\n  a: { server: s, tool: t, args: { v: "${{ $.inputs[@.x] }}" } }\n');
console.log(JSON.stringify(r.ok ? 'ok' : r.issues));
if (r.ok) {
  runPipeline(r.pipeline, {}, { invoker: { callTool: async () => ({ content: [] }) } }).then((x) => console.log('resolved', JSON.stringify(x).slice(0, 400)), (e) => console.log('REJECTED', e));
}
