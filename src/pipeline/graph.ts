/**
 * The step graph: dependencies from `needs` and `$.steps.<id>` references, checked for unknown
 * steps, self-references and cycles, then layered. Everything here is O(V + E) but for sorting each
 * step's own dependency list.
 */
import { expressionSteps, type Template, templateExpressions } from './template.js';
import type { CompiledPipeline } from './types.js';

/** `step` depends on `dependsOn`, because of a `needs` entry or an expression; `where` locates it. */
export interface DependencyEdge<W = unknown> {
  step: string;
  dependsOn: string;
  kind: 'needs' | 'ref';
  where: W;
}

export interface GraphAnalysis<W = unknown> {
  /** Edges to steps that do not exist. */
  unknown: DependencyEdge<W>[];
  /** Edges from a step to itself. */
  selfRefs: DependencyEdge<W>[];
  /** Each cycle once, as `[a, b, c, a]` (a depends on b …), with the edge a → b that starts it. */
  cycles: { path: string[]; edge: DependencyEdge<W> }[];
  /** Known dependencies of each step, without self-references, in file order. */
  deps: Map<string, string[]>;
  dependents: Map<string, string[]>;
  /** Layer n: steps whose deepest dependency is in layer n-1. Only steps outside cycles. */
  layers: string[][];
  /** The layers flattened: a topological order. */
  order: string[];
}

export function analyzeGraph<W>(
  ids: readonly string[],
  edges: readonly DependencyEdge<W>[],
): GraphAnalysis<W> {
  const n = ids.length;
  const index = new Map<string, number>(ids.map((id, i) => [id, i]));
  const unknown: DependencyEdge<W>[] = [];
  const selfRefs: DependencyEdge<W>[] = [];
  const firstEdge = new Map<string, DependencyEdge<W>>();
  const depSets: Set<number>[] = Array.from({ length: n }, () => new Set<number>());
  for (const edge of edges) {
    const from = index.get(edge.step);
    const to = index.get(edge.dependsOn);
    if (from === undefined) continue;
    if (to === undefined) unknown.push(edge);
    else if (to === from) selfRefs.push(edge);
    else {
      depSets[from]!.add(to);
      const key = `${from}:${to}`;
      if (!firstEdge.has(key)) firstEdge.set(key, edge);
    }
  }
  const deps: number[][] = depSets.map((s) => [...s].sort((a, b) => a - b));
  const dependents: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) for (const d of deps[i]!) dependents[d]!.push(i);

  // Kahn's algorithm, recording each step's depth.
  const remaining = deps.map((d) => d.length);
  const depth = new Array<number>(n).fill(0);
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (remaining[i] === 0) queue.push(i);
  for (let head = 0; head < queue.length; head++) {
    const u = queue[head]!;
    for (const v of dependents[u]!) {
      depth[v] = Math.max(depth[v]!, depth[u]! + 1);
      if (--remaining[v]! === 0) queue.push(v);
    }
  }
  const done = new Uint8Array(n);
  for (const u of queue) done[u] = 1;
  const layers: string[][] = [];
  for (let i = 0; i < n; i++) {
    if (!done[i]) continue;
    const layer = depth[i]!;
    while (layers.length <= layer) layers.push([]);
    layers[layer]!.push(ids[i]!);
  }

  const cycles: GraphAnalysis<W>['cycles'] = [];
  if (queue.length < n) {
    for (const scc of stronglyConnected(n, deps, done)) {
      const path = shortestCycle(scc, deps);
      const edge = firstEdge.get(`${path[0]}:${path[1]}`)!;
      cycles.push({ path: path.map((i) => ids[i]!), edge });
    }
    cycles.sort((a, b) => index.get(a.path[0]!)! - index.get(b.path[0]!)!);
  }

  const byId = (lists: number[][]) => new Map(ids.map((id, i) => [id, lists[i]!.map((j) => ids[j]!)]));
  return {
    unknown,
    selfRefs,
    cycles,
    deps: byId(deps),
    dependents: byId(dependents),
    layers,
    order: layers.flat(),
  };
}

/** Tarjan's algorithm, iterative, over the steps Kahn's algorithm could not order; SCCs of two or more. */
function stronglyConnected(n: number, deps: number[][], excluded: Uint8Array): number[][] {
  const order = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const result: number[][] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (excluded[root] || order[root] !== -1) continue;
    const work: [number, number][] = [[root, 0]];
    order[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const [u, next] = frame;
      const edges = deps[u]!;
      if (next < edges.length) {
        frame[1]++;
        const v = edges[next]!;
        if (excluded[v]) continue;
        if (order[v] === -1) {
          order[v] = low[v] = counter++;
          stack.push(v);
          onStack[v] = 1;
          work.push([v, 0]);
        } else if (onStack[v]) {
          low[u] = Math.min(low[u]!, order[v]!);
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low[parent[0]] = Math.min(low[parent[0]]!, low[u]!);
      if (low[u] === order[u]) {
        const scc: number[] = [];
        let v: number;
        do {
          v = stack.pop()!;
          onStack[v] = 0;
          scc.push(v);
        } while (v !== u);
        if (scc.length > 1) result.push(scc.sort((a, b) => a - b));
      }
    }
  }
  return result;
}

/** The shortest cycle through the SCC's first step (in file order), as `[a, …, a]`. */
function shortestCycle(scc: number[], deps: number[][]): number[] {
  const start = scc[0]!;
  const members = new Set(scc);
  const prev = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const u = queue[head]!;
    for (const v of deps[u]!) {
      if (!members.has(v)) continue;
      if (v === start) {
        const back: number[] = [];
        for (let w = u; w !== start; w = prev.get(w)!) back.push(w);
        return [start, ...back.reverse(), start];
      }
      if (!prev.has(v) && v !== start) {
        prev.set(v, u);
        queue.push(v);
      }
    }
  }
  return [start, start];
}

/** The graph as a Mermaid flowchart: data references as solid arrows, `needs`-only order as dotted ones. */
export function toMermaid(pipeline: CompiledPipeline): string {
  const lines = ['flowchart TD'];
  const node = new Map<string, string>();
  let i = 0;
  for (const step of pipeline.steps.values()) {
    const id = `s${i++}`;
    node.set(step.id, id);
    const extra = [
      step.forEach ? 'for each' : '',
      step.when ? 'when' : '',
      step.onError === 'continue' ? 'continue on error' : '',
    ]
      .filter(Boolean)
      .join(', ');
    const label = `${step.id}<br/>${escapeLabel(step.pipeline ? `pipeline ${step.pipeline.name}` : `${step.server}.${step.tool}`)}${extra ? `<br/><i>${extra}</i>` : ''}`;
    lines.push(
      step.forEach ? `  ${id}[["${label}"]]` : step.when ? `  ${id}{{"${label}"}}` : `  ${id}["${label}"]`,
    );
  }
  for (const step of pipeline.steps.values()) {
    const refs = new Set(step.refs);
    for (const dep of step.dependsOn) {
      lines.push(`  ${node.get(dep)} ${refs.has(dep) ? '-->' : '-.->'} ${node.get(step.id)}`);
    }
  }
  if (pipeline.output) {
    const read = [...new Set(templateSteps(pipeline.output))];
    if (read.length > 0) {
      lines.push('  output(["output"])');
      for (const id of read) lines.push(`  ${node.get(id)} --> output`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function templateSteps(template: Template): string[] {
  return templateExpressions(template).flatMap(expressionSteps);
}

function escapeLabel(text: string): string {
  return text.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}
