import { compileExpression } from '../src/pipeline/expr.ts';
import { validatePipelineText } from '../src/pipeline/index.ts';
try { compileExpression('$.inputs#0'); } catch (e) { console.log((e as Error).stack); }
console.log(JSON.stringify(validatePipelineText('name: p\nsteps:\n  a: { server: s, tool: t, args: { v: "${{ $.inputs#0 }}" } }\n')));
