/** What `${{ }}` expressions may read — shared by the JSONPath (jsonpath.ts) and CEL (cel.ts) compilers. */

export const EXPRESSION_ROOTS = ['inputs', 'steps', 'item', 'index', 'failure'] as const;
export type ExpressionRoot = (typeof EXPRESSION_ROOTS)[number];

/** The fields of `$.steps.<id>`. */
export const STEP_RESULT_FIELDS = [
  'status',
  'output',
  'text',
  'content',
  'isError',
  'error',
  'attempts',
  'durationMs',
] as const;
