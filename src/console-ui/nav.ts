/** Moves to a view: `#/<page>` or `#/<page>/<id>`. */
export function go(page: 'backends' | 'tools' | 'pipelines' | 'runs', id?: string): void {
  location.hash = `#/${page}${id !== undefined ? `/${encodeURIComponent(id)}` : ''}`;
}

/** `1.2 s`, `340 ms`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'undefined';
}
