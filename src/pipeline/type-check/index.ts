/**
 * The load-time data-flow check's face: problems where a `${{ }}` value cannot fit the parameter it
 * feeds, and a pipeline's output type as JSON Schema. Pure; the callers bring the tools' schemas.
 */

export { catalogTypeEnv, checkCatalogTypes } from './catalog-types.js';
export {
  checkDataFlow,
  deriveOutputSchema,
  deriveOutputType,
  type ToolShape,
  type TypeCheckEnv,
  type TypeProblem,
  type TypeProblemCode,
} from './check.js';
export { describeType, type FlowType, fits, fromSchema, type JsonSchema, toSchema } from './flow-type.js';
