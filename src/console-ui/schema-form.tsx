/**
 * A form generated from a JSON Schema object (a tool's inputSchema, a pipeline's inputs): a field per
 * property — text, number, a choice for enums and booleans, JSON for objects and arrays — prefilled
 * with defaults. Empty optional fields are left out of the arguments.
 */
import { useEffect, useState } from 'preact/hooks';

type Schema = Record<string, unknown>;

interface Field {
  name: string;
  schema: Schema;
  required: boolean;
  kind: 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'json';
}

function fieldsOf(schema: Schema): Field[] {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(properties).map(([name, s]) => {
    const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
    const kind: Field['kind'] = Array.isArray(s.enum)
      ? 'enum'
      : type === 'string' || type === 'number' || type === 'integer' || type === 'boolean'
        ? type
        : 'json';
    return { name, schema: s, required: required.has(name), kind };
  });
}

function initial(field: Field): string {
  const d = field.schema.default;
  if (d === undefined) return '';
  return field.kind === 'json' || field.kind === 'enum' ? JSON.stringify(d) : String(d);
}

function parseField(field: Field, text: string): unknown {
  switch (field.kind) {
    case 'string':
      return text;
    case 'number':
    case 'integer': {
      const n = Number(text);
      if (Number.isNaN(n)) throw new Error(`${field.name}: expected a number`);
      return n;
    }
    case 'boolean':
      return text === 'true';
    case 'enum':
    case 'json':
      try {
        return JSON.parse(text);
      } catch {
        throw new Error(`${field.name}: expected JSON`);
      }
  }
}

export function SchemaForm({
  schema,
  submitLabel,
  busy,
  onSubmit,
  id,
}: {
  schema: Schema;
  submitLabel: string;
  busy: boolean;
  onSubmit: (args: Record<string, unknown>) => void;
  id: string;
}) {
  const fields = fieldsOf(schema);
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | undefined>(undefined);
  const key = JSON.stringify(schema);
  useEffect(() => {
    setValues(Object.fromEntries(fields.map((f) => [f.name, initial(f)])));
    setError(undefined);
  }, [key]);
  const set = (name: string) => (e: Event) =>
    setValues({ ...values, [name]: (e.target as HTMLInputElement).value });
  const submit = (e: Event) => {
    e.preventDefault();
    try {
      const args: Record<string, unknown> = {};
      for (const f of fields) {
        const text = values[f.name] ?? '';
        if (text === '' && f.kind !== 'string') continue;
        if (text === '' && !f.required) continue;
        args[f.name] = parseField(f, text);
      }
      setError(undefined);
      onSubmit(args);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <form class="schema-form" id={id} onSubmit={submit}>
      {fields.length === 0 ? <p class="hint">No arguments.</p> : null}
      {fields.map((f) => {
        const fid = `${id}-${f.name}`;
        const label = (
          <label class="label" for={fid}>
            {f.name}
            {f.required ? <span class="required"> *</span> : null}
            <span class="type"> {f.kind === 'enum' ? 'one of' : f.kind}</span>
          </label>
        );
        const description =
          typeof f.schema.description === 'string' ? <small>{f.schema.description}</small> : null;
        const value = values[f.name] ?? '';
        let input: preact.JSX.Element;
        if (f.kind === 'enum') {
          input = (
            <select id={fid} name={f.name} value={value} onChange={set(f.name)}>
              {f.required ? null : <option value="">(none)</option>}
              {(f.schema.enum as unknown[]).map((v) => (
                <option key={JSON.stringify(v)} value={JSON.stringify(v)}>
                  {String(v)}
                </option>
              ))}
            </select>
          );
        } else if (f.kind === 'boolean') {
          input = (
            <select id={fid} name={f.name} value={value} onChange={set(f.name)}>
              <option value="">(none)</option>
              <option value="true">true</option>
              <option value="false">false</option>
            </select>
          );
        } else if (f.kind === 'json') {
          input = (
            <textarea
              id={fid}
              name={f.name}
              rows={3}
              value={value}
              onInput={set(f.name)}
              placeholder="JSON"
            />
          );
        } else {
          input = (
            <input
              id={fid}
              name={f.name}
              type={f.kind === 'string' ? 'text' : 'number'}
              step={f.kind === 'integer' ? '1' : 'any'}
              value={value}
              required={f.required}
              onInput={set(f.name)}
            />
          );
        }
        return (
          <div key={f.name} class="field">
            {label}
            {input}
            {description}
          </div>
        );
      })}
      <button type="submit" disabled={busy}>
        {busy ? 'Working…' : submitLabel}
      </button>
      {error ? <p class="error">{error}</p> : null}
    </form>
  );
}
