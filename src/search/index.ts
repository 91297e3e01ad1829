export { oneLine } from './text.js';
export { type SearchableTool, type ToolHit, ToolIndex } from './tool-index.js';
