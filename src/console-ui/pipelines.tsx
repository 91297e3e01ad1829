import { useEffect, useState } from 'preact/hooks';
import type { PipelineView, RunView } from '../console/types.js';
import { get, post } from './api.js';
import { Graph } from './graph.js';
import { go, json } from './nav.js';
import { SchemaForm } from './schema-form.js';

function Issues({ title, issues }: { title: string; issues: PipelineView['issues'] }) {
  if (issues.length === 0) return null;
  return (
    <div class="issues">
      <h3>{title}</h3>
      <ul>
        {issues.map((i, n) => (
          <li key={n}>
            <code>
              {i.file ? `${i.file}:` : ''}
              {i.line}:{i.column}
            </code>{' '}
            {i.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function PipelinesPage({ selected, version }: { selected: string | undefined; version: number }) {
  const [pipelines, setPipelines] = useState<PipelineView[]>([]);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    get<{ pipelines: PipelineView[] }>('pipelines').then(
      (p) => setPipelines(p.pipelines),
      (err: unknown) => setError(String(err)),
    );
  }, [version]);
  useEffect(() => setError(undefined), [selected]);
  const pipeline = pipelines.find((p) => p.name === selected);
  const run = async (inputs: Record<string, unknown>) => {
    if (!pipeline) return;
    setBusy(true);
    setError(undefined);
    try {
      const started = await post<{ run: RunView | null }>('runs', { pipeline: pipeline.name, inputs });
      if (started.run) go('runs', started.run.id);
      else go('runs');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="split">
      <aside>
        <h2>Pipelines ({pipelines.length})</h2>
        <ul class="list">
          {pipelines.map((p) => (
            <li key={p.file}>
              <a
                href={`#/pipelines/${encodeURIComponent(p.name)}`}
                class={p.name === selected ? 'active' : ''}
                data-pipeline={p.name}
              >
                {p.name}
                {p.valid ? null : <span class="badge failed">invalid</span>}
              </a>
            </li>
          ))}
        </ul>
      </aside>
      <div class="detail">
        {pipeline ? (
          <>
            <h2>{pipeline.name}</h2>
            <p class="meta">
              <code>{pipeline.file}</code>
              {' · '}
              {pipeline.valid
                ? 'valid'
                : pipeline.serving
                  ? 'invalid — the last good version keeps serving'
                  : 'invalid — not served'}
            </p>
            {pipeline.description ? <p class="description">{pipeline.description}</p> : null}
            <Issues title="Problems" issues={pipeline.issues} />
            <Issues title="Warnings" issues={pipeline.warnings} />
            {pipeline.mermaid ? <Graph text={pipeline.mermaid} /> : null}
            {pipeline.serving && pipeline.inputsSchema ? (
              <>
                <h3>Run</h3>
                <SchemaForm
                  id="run-form"
                  schema={pipeline.inputsSchema}
                  submitLabel="Run"
                  busy={busy}
                  onSubmit={run}
                />
              </>
            ) : null}
            {error ? <p class="error">{error}</p> : null}
            <details>
              <summary>Steps</summary>
              <pre>{json(pipeline.steps)}</pre>
            </details>
          </>
        ) : (
          <p class="empty">{error ?? (pipelines.length ? 'Pick a pipeline.' : 'No pipelines.')}</p>
        )}
      </div>
    </section>
  );
}
