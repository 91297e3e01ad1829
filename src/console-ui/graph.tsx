/**
 * A pipeline's DAG drawn by Mermaid from the text `mcp-gateway graph` writes. Mermaid is loaded on
 * first use (its own chunk of the bundle) and runs with securityLevel 'strict': labels are escaped
 * by the server and sanitized again by Mermaid, and no click handlers or links are allowed.
 */
import { useEffect, useRef, useState } from 'preact/hooks';

type Mermaid = typeof import('mermaid').default;
let loading: Promise<Mermaid> | undefined;
let counter = 0;

function mermaid(): Promise<Mermaid> {
  loading ??= import('mermaid').then(({ default: m }) => {
    m.initialize({
      startOnLoad: false,
      securityLevel: 'strict',
      theme: 'neutral',
      flowchart: { curve: 'basis' },
    });
    return m;
  });
  return loading;
}

export function Graph({ text }: { text: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    let current = true;
    setError(undefined);
    mermaid()
      .then((m) => m.render(`graph-${++counter}`, text))
      .then(({ svg }) => {
        // Mermaid's output, sanitized by it (DOMPurify) under securityLevel 'strict'.
        if (current && box.current) box.current.innerHTML = svg;
      })
      .catch((err: unknown) => current && setError(err instanceof Error ? err.message : String(err)));
    return () => {
      current = false;
    };
  }, [text]);
  return (
    <div class="graph">
      <div ref={box} id="pipeline-graph" />
      {error ? <p class="error">The graph could not be drawn: {error}</p> : null}
    </div>
  );
}
