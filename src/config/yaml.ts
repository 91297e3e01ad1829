/**
 * YAML text → a parsed `Document`, bounded in nesting depth before the `yaml` package sees it.
 *
 * `yaml` composes documents recursively: nesting in the high hundreds overflows the stack, and an
 * overflow that lands inside V8's regular-expression compiler is not a RangeError but a fatal
 * "out of memory" that ends the process. Its CST parser is also quadratic in depth (a megabyte of `[`
 * takes seconds). So the text is lexed first (linear time), an upper bound on its nesting is taken from
 * the tokens, and only a document within the bound is parsed and composed, from the same tokens.
 */
import {
  Composer,
  CST,
  type Document,
  type DocumentOptions,
  Lexer,
  type LineCounter,
  type ParseOptions,
  Parser,
  type SchemaOptions,
  YAMLParseError,
} from 'yaml';

/** Levels of mappings, sequences and brackets a config or pipeline file may nest. */
export const MAX_YAML_DEPTH = 100;

export type YamlOptions = ParseOptions & DocumentOptions & SchemaOptions & { lineCounter: LineCounter };

export function tooDeepMessage(max = MAX_YAML_DEPTH): string {
  return `nesting is too deep (more than ${max} levels of mappings, sequences and brackets)`;
}

/**
 * `parseDocument` from `yaml`, except that text nested deeper than `maxDepth` gives a document with
 * one error at the place it gets too deep (and no contents) instead of being parsed.
 */
export function parseYamlDocument(
  text: string,
  options: YamlOptions,
  maxDepth = MAX_YAML_DEPTH,
): Document.Parsed {
  const { lineCounter } = options;
  const composer = new Composer(options);
  const lexemes: string[] = [];
  const depth = depthBound(maxDepth);
  for (const lexeme of new Lexer().lex(text)) {
    lexemes.push(lexeme);
    const tooDeepAt = depth(lexeme);
    if (tooDeepAt === undefined) continue;
    // Stop lexing here: the rest could be a megabyte of brackets.
    lineCounter.addNewLine(0);
    let offset = 0;
    for (const seen of lexemes) {
      offset += width(seen);
      if (CST.tokenType(seen) === 'newline' && seen !== '') lineCounter.addNewLine(offset);
    }
    const doc = [...composer.compose([], true, text.length)][0]!;
    doc.errors.push(
      new YAMLParseError([tooDeepAt, tooDeepAt + 1], 'UNEXPECTED_TOKEN', tooDeepMessage(maxDepth)),
    );
    return doc;
  }

  const parser = new Parser(lineCounter.addNewLine);
  lineCounter.addNewLine(0);
  function* tokens() {
    for (const lexeme of lexemes) yield* parser.next(lexeme);
    yield* parser.end();
  }
  let doc: Document.Parsed | undefined;
  for (const next of composer.compose(tokens(), true, text.length)) {
    if (!doc) doc = next;
    else {
      doc.errors.push(
        new YAMLParseError(
          next.range.slice(0, 2) as [number, number],
          'MULTIPLE_DOCS',
          'Source contains multiple documents; please use YAML.parseAllDocuments()',
        ),
      );
      break;
    }
  }
  return doc!;
}

/** Lexer markers that stand for no source text. */
function width(lexeme: string): number {
  return lexeme === CST.DOCUMENT || lexeme === CST.FLOW_END || lexeme === CST.SCALAR ? 0 : lexeme.length;
}

/**
 * Fed each lexeme in turn, returns the offset of the first token at which an upper bound of the
 * nesting passes `max`, else undefined.
 *
 * Flow collections count one level per open bracket. Block collections are counted by indentation, the
 * way Python counts blocks: each line's first token, and each token after a `-`, `?` or `:` on the same
 * line (compact nesting such as `- - - x`), opens a level at its column unless one is open there, and
 * closes the levels at deeper columns. One column can hold two block collections (`a:` followed by
 * `- item` at the same indentation), so each counts twice. The bound overestimates; it never
 * underestimates, which is what matters.
 */
function depthBound(max: number): (lexeme: string) => number | undefined {
  const columns: number[] = [];
  let offset = 0;
  let lineStart = 0;
  let flow = 0;
  let atLineStart = true;
  let afterIndicator = false;
  let scalarText = false;
  return (lexeme) => {
    const start = offset;
    offset += width(lexeme);
    const type = scalarText ? 'scalar-text' : CST.tokenType(lexeme);
    scalarText = lexeme === CST.SCALAR;
    switch (type) {
      case 'scalar': // the marker before a scalar's text
      case 'space':
      case 'comment':
      case 'byte-order-mark':
      case 'doc-mode':
        return undefined;
      case 'newline':
        lineStart = offset;
        atLineStart = true;
        afterIndicator = false;
        return undefined;
      case 'doc-start':
      case 'doc-end':
      case 'directive-line':
        columns.length = 0;
        flow = 0;
        return undefined;
      case 'flow-error-end':
        flow = 0;
        return undefined;
    }
    if (flow === 0 && (atLineStart || afterIndicator)) {
      const column = start - lineStart;
      if (atLineStart) while (columns.length > 0 && columns.at(-1)! > column) columns.pop();
      if (columns.length === 0 || columns.at(-1)! < column) columns.push(column);
    }
    atLineStart = false;
    if (type === 'seq-item-ind' || type === 'explicit-key-ind' || type === 'map-value-ind')
      afterIndicator = true;
    else if (type !== 'anchor' && type !== 'tag') afterIndicator = false;
    if (type === 'flow-seq-start' || type === 'flow-map-start') flow++;
    else if ((type === 'flow-seq-end' || type === 'flow-map-end') && flow > 0) flow--;
    if (type === 'scalar-text' && lexeme.includes('\n')) lineStart = start + lexeme.lastIndexOf('\n') + 1;
    return 2 * columns.length + flow > max ? start : undefined;
  };
}
