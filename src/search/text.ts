/**
 * How tool text becomes words for the index: names split at `_`, `-`, `.`, `__` and camelCase humps
 * ("getFileContents", "github__get_file_contents" → get, file, contents), the rest at anything that is
 * not a letter or digit.
 */
export function splitWords(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0);
}

/** Parameter names and their descriptions, nested objects and array items included, as one text. */
export function parameterText(schema: unknown, depth = 0): string {
  if (!isObject(schema) || depth > 3) return '';
  const parts: string[] = [];
  const properties = schema.properties;
  if (isObject(properties)) {
    for (const [name, property] of Object.entries(properties)) {
      parts.push(name);
      if (isObject(property) && typeof property.description === 'string') parts.push(property.description);
      parts.push(parameterText(property, depth + 1));
    }
  }
  if (isObject(schema.items)) parts.push(parameterText(schema.items, depth + 1));
  return parts.filter((p) => p !== '').join(' ');
}

const SUMMARY_MAX = 200;

/** The first sentence or line of a description, at most 200 characters: what a ranked list shows. */
export function oneLine(description: string): string {
  const firstLine = description.trim().split(/\r?\n/, 1)[0] ?? '';
  const sentence = /^(.+?[.!?])(\s|$)/.exec(firstLine)?.[1] ?? firstLine;
  return sentence.length <= SUMMARY_MAX ? sentence : `${sentence.slice(0, SUMMARY_MAX - 1)}…`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
