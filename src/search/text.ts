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

/**
 * Words too common in requests to tell tools apart ("show me the files in my folder"). Left in, they
 * match as prefixes of real words ("the" → "theme") and add noise to every result.
 */
const STOP_WORDS = new Set(
  'a an and are as at be by can do for from how i in into is it me my of on or our please show that the this to what when which who with you your'.split(
    ' ',
  ),
);

/**
 * One indexed or queried word: lower case, English plurals folded to the singular ("entities" →
 * "entity", "branches" → "branch", "files" → "file"), so a request and a description that differ only in
 * number still meet. Stop words become null (not indexed, not searched).
 */
export function normalizeTerm(term: string): string | null {
  const word = term.toLowerCase();
  if (STOP_WORDS.has(word)) return null;
  if (word.length <= 3) return word;
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (/(ss|x|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}
