/**
 * The pipeline engine's public face: validate pipeline text, load a folder of pipelines, run one
 * through a ToolInvoker, draw its graph. Everything else in this folder is internal.
 */
export {
  type Catalog,
  type CatalogEntry,
  isPipelineFile,
  type LoadOptions,
  loadCatalog,
  loadPipelineFile,
  mergeCatalog,
  PIPELINE_EXTENSIONS,
  type PipelineSummary,
  servedPipeline,
  summarize,
} from './catalog.js';
export type { PipelineResolver } from './child-runs.js';
export { allSteps } from './compensation.js';
export { runPipeline } from './engine.js';
export { toMermaid } from './graph.js';
export { type InputsResult, type PrepareInputsOptions, prepareInputs } from './inputs.js';
export { MAX_PIPELINE_BYTES } from './parse.js';
export {
  callClosure,
  checkPipelineCalls,
  MAX_PIPELINE_DEPTH,
  type PipelineLookup,
} from './pipeline-calls.js';
export {
  checkExpectation,
  contains,
  type Expectation,
  type ExpectationResult,
  MATCHERS,
  type Matcher,
  type PipelineTest,
  parsePipelineTest,
  select,
} from './pipeline-test.js';
export {
  canonicalJson,
  closestCall,
  differingKeys,
  parseRecording,
  RECORDING_VERSION,
  type RecordedCall,
  type RecordedError,
  type Recording,
  RecordingInvoker,
  ReplayInvoker,
} from './recording.js';
export { isRetryable } from './retry.js';
export { DEFAULT_STEP_TIMEOUT_MS, type RunOptions } from './run-options.js';
export { pipelineSchema } from './schema.js';
export {
  catalogTypeEnv,
  checkCatalogTypes,
  checkDataFlow,
  deriveOutputSchema,
  deriveOutputType,
  type ToolShape,
  type TypeCheckEnv,
  type TypeProblem,
  type TypeProblemCode,
} from './type-check/index.js';
export type {
  CallHooks,
  ChildRunRecord,
  CompensationResult,
  CompiledPipeline,
  CompiledStep,
  InputSchema,
  InputsSchema,
  KnownTools,
  PipelineIssue,
  RetryPolicy,
  RunHooks,
  RunObserver,
  RunResult,
  RunStatus,
  StepEvent,
  StepRecord,
  StepResult,
  StepStatus,
} from './types.js';
export {
  COMPENSATION_GRACE_MS,
  CUSTOM_SCENARIO,
  DEFAULT_CONCURRENCY,
  formatIssue,
  type ValidateOptions,
  type ValidationResult,
  validatePipelineText,
} from './validate.js';
