/**
 * Problems found while compiling a pipeline, each placed at its line and column: by a key path, or
 * for an expression by its place inside the string.
 */

import type { ParsedSource, Position } from './parse.js';
import type { Segment } from './template.js';
import type { PipelineIssue } from './types.js';

export type Data = Record<string, unknown>;
export const isObject = (v: unknown): v is Data => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Where a dependency or expression is: a key path, and for an expression its place in the string. */
export interface Where {
  path: Segment[];
  site?: { offset: number; raw: string };
}

export class Collector {
  readonly issues: PipelineIssue[] = [];
  readonly warnings: PipelineIssue[] = [];
  constructor(
    private readonly source: ParsedSource | undefined,
    private readonly file: string | undefined,
  ) {}

  error(where: Where | Position, message: string, at: 'key' | 'value' = 'value'): void {
    this.issues.push(this.issue(where, message, at));
  }

  warn(where: Where | Position, message: string, at: 'key' | 'value' = 'value'): void {
    this.warnings.push(this.issue(where, message, at));
  }

  locate(path: Segment[]): Position {
    return this.source ? this.source.locate(path, 'key') : { line: 1, column: 1 };
  }

  private issue(where: Where | Position, message: string, at: 'key' | 'value'): PipelineIssue {
    let pos: Position;
    let step: string | undefined;
    if ('line' in where) pos = where;
    else {
      const src = this.source!;
      pos = where.site
        ? src.locateIn(where.path, where.site.offset, where.site.raw)
        : src.locate(where.path, at);
      if ((where.path[0] === 'steps' || where.path[0] === 'on_failure') && typeof where.path[1] === 'string')
        step = where.path[1];
    }
    const issue: PipelineIssue = { line: pos.line, column: pos.column, message };
    if (this.file !== undefined) issue.file = this.file;
    if (step !== undefined) issue.step = step;
    return issue;
  }
}

export function sorted(issues: PipelineIssue[]): PipelineIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.column - b.column || a.message.localeCompare(b.message));
}
