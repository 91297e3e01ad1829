import { useEffect, useState } from 'preact/hooks';
import type { ToolView } from '../console/types.js';
import { get, post } from './api.js';
import { go, json } from './nav.js';
import { SchemaForm } from './schema-form.js';

interface ContentBlock {
  type: string;
  text?: string;
  data?: string;
  mimeType?: string;
  uri?: string;
  name?: string;
  resource?: { uri?: string; text?: string; mimeType?: string };
}

interface CallResult {
  content?: ContentBlock[];
  structuredContent?: unknown;
  isError?: boolean;
}

/** Images as the tool sent them, only in the raster and SVG types a browser shows as images (an SVG in <img> runs no script). */
const IMAGE_TYPES = /^image\/(png|jpeg|gif|webp|svg\+xml)$/;

function Block({ block }: { block: ContentBlock }) {
  if (block.type === 'text') return <pre class="text">{block.text}</pre>;
  if (block.type === 'image' && block.data && IMAGE_TYPES.test(block.mimeType ?? ''))
    return (
      <img
        class="result-image"
        alt="returned by the tool"
        src={`data:${block.mimeType};base64,${block.data}`}
      />
    );
  if (block.type === 'resource_link') return <p class="text">link: {block.uri}</p>;
  if (block.type === 'resource')
    return <pre class="text">{block.resource?.text ?? `resource ${block.resource?.uri ?? ''}`}</pre>;
  return <pre class="text">{json(block)}</pre>;
}

export function Result({ result }: { result: CallResult }) {
  return (
    <div class={`result ${result.isError ? 'is-error' : 'ok'}`} id="tool-result">
      <h4>{result.isError ? 'Error' : 'Result'}</h4>
      {(result.content ?? []).map((b, i) => (
        <Block key={i} block={b} />
      ))}
      {result.structuredContent !== undefined ? (
        <details open>
          <summary>structured content</summary>
          <pre>{json(result.structuredContent)}</pre>
        </details>
      ) : null}
    </div>
  );
}

export function ToolsPage({ selected, version }: { selected: string | undefined; version: number }) {
  const [tools, setTools] = useState<ToolView[]>([]);
  const [filter, setFilter] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [result, setResult] = useState<CallResult | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    get<{ tools: ToolView[] }>('tools').then(
      (t) => setTools(t.tools),
      (err: unknown) => setError(String(err)),
    );
  }, [version]);
  useEffect(() => setResult(undefined), [selected]);
  const tool = tools.find((t) => t.name === selected);
  const shown = tools.filter((t) => t.name.toLowerCase().includes(filter.toLowerCase()));
  const call = async (args: Record<string, unknown>) => {
    if (!tool) return;
    setBusy(true);
    setResult(undefined);
    try {
      setResult(await post<CallResult>('tools/call', { name: tool.name, arguments: args }));
    } catch (err) {
      setResult({ isError: true, content: [{ type: 'text', text: String(err) }] });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="split">
      <aside>
        <h2>Tools ({tools.length})</h2>
        <input
          type="search"
          placeholder="Filter"
          value={filter}
          onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
        />
        {error ? <p class="error">{error}</p> : null}
        <ul class="list">
          {shown.map((t) => (
            <li key={t.name}>
              <a
                href={`#/tools/${encodeURIComponent(t.name)}`}
                class={t.name === selected ? 'active' : ''}
                data-tool={t.name}
              >
                {t.name}
              </a>
            </li>
          ))}
        </ul>
      </aside>
      <div class="detail">
        {tool ? (
          <>
            <h2>{tool.title ?? tool.name}</h2>
            <p class="meta">
              <code>{tool.name}</code>
              {tool.server ? ` · backend ${tool.server}` : ' · gateway'}
            </p>
            {tool.description ? <p class="description">{tool.description}</p> : null}
            <h3>Try it</h3>
            <SchemaForm
              id="tool-form"
              schema={tool.inputSchema}
              submitLabel="Call"
              busy={busy}
              onSubmit={call}
            />
            {result ? <Result result={result} /> : null}
            <details>
              <summary>Input schema</summary>
              <pre>{json(tool.inputSchema)}</pre>
            </details>
            {tool.outputSchema ? (
              <details>
                <summary>Output schema</summary>
                <pre>{json(tool.outputSchema)}</pre>
              </details>
            ) : null}
          </>
        ) : (
          <p class="empty">
            {tools.length ? 'Pick a tool.' : 'No tools.'}{' '}
            {selected ? (
              <button type="button" class="link" onClick={() => go('tools')}>
                ({selected} is not served)
              </button>
            ) : null}
          </p>
        )}
      </div>
    </section>
  );
}
