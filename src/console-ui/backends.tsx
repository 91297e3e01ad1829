import type { BackendView } from '../console/types.js';

function count(n: number | null): string {
  return n === null ? '–' : String(n);
}

export function BackendsPage({ backends }: { backends: BackendView[] }) {
  if (backends.length === 0) return <p class="empty">No backends.</p>;
  return (
    <section class="backends">
      <h2>Backends</h2>
      <div class="cards">
        {backends.map((b) => (
          <article class="card backend" key={b.name} data-backend={b.name} data-status={b.status}>
            <header>
              <h3>{b.name}</h3>
              <span class={`badge ${b.status.replace(' ', '-')}`}>{b.status}</span>
            </header>
            {b.description ? <p class="description">{b.description}</p> : null}
            <dl>
              <dt>{b.transport === 'stdio' ? 'command' : 'URL'}</dt>
              <dd>
                <code>{b.target}</code>
              </dd>
              {b.pid !== undefined ? (
                <>
                  <dt>pid</dt>
                  <dd>{b.pid}</dd>
                </>
              ) : null}
              <dt>era</dt>
              <dd>
                {b.era ?? '–'}
                {b.protocolVersion ? ` (${b.protocolVersion})` : ''}
              </dd>
              <dt>restarts</dt>
              <dd>{b.restarts}</dd>
              <dt>tools / resources / prompts</dt>
              <dd>
                {b.counts.tools} / {count(b.counts.resources)} / {count(b.counts.prompts)}
              </dd>
              <dt>from</dt>
              <dd>{b.source}</dd>
            </dl>
            {b.lastError ? <p class="error">{b.lastError}</p> : null}
            {b.stderrTail.length > 0 ? (
              <details>
                <summary>stderr ({b.stderrTail.length} lines)</summary>
                <pre>{b.stderrTail.join('\n')}</pre>
              </details>
            ) : null}
          </article>
        ))}
      </div>
    </section>
  );
}
