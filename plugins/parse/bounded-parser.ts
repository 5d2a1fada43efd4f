import { MailParser, type MailParserOptions } from 'mailparser';
import { cutLongHeaderFields, headerLinesWithin, type BoundRecorder, type ParseBounds } from './bounds.js';

/** The parts of a mailsplit chunk this parser looks at. */
interface SplitterChunk {
  type: 'node' | 'data' | 'body';
  parentNode?: SplitterChunk;
  headers?: { getList(): { key: string; line: string }[]; lines: { key: string; line: string }[] | false };
}

/** A node of the tree MailParser builds; `textContent` is a text or HTML part's decoded content. */
interface TreeNode {
  textContent?: string;
  children?: TreeNode[];
}

/**
 * MailParser's own steps this subclass wraps. They are not in mailparser's typings (internal), so
 * the wrapper names them here; mailparser is pinned in package.json and the tests of this folder
 * fail if they change.
 */
interface MailParserInternals {
  processChunk(this: MailParser, data: SplitterChunk, done: (err?: Error) => void): void;
  getTextContent(this: MailParser): unknown;
}

const internals = MailParser.prototype as unknown as MailParserInternals;

/**
 * mailparser's streaming parser with Hermod's bounds applied as the MIME structure arrives:
 *
 * - header blocks are cut to `maxHeaders` lines and `maxHeaderBytes`, and each field to
 *   `maxHeaderFieldBytes`, before mailparser decodes them, so per-header work stops at the bound;
 * - the part past `maxParts`, or deeper than `maxMimeDepth`, stops the parse: nothing after it is
 *   decoded, but what came before (headers, text, attachment hashes) is kept;
 * - each text and HTML part is cut to `maxTextCharsPerPart` before the text is assembled.
 *
 * `stopped` tells the feeder to stop writing input; chunks already buffered are skipped cheaply.
 */
export class BoundedMailParser extends MailParser {
  stopped = false;
  private parts = 0;
  private readonly depths = new WeakMap<SplitterChunk, number>();
  declare tree: TreeNode | false;

  constructor(
    options: MailParserOptions,
    private readonly bounds: ParseBounds,
    private readonly recorder: BoundRecorder,
  ) {
    super(options);
  }

  /** Called by MailParser for every chunk mailsplit emits. */
  processChunk(data: SplitterChunk, done: (err?: Error) => void): void {
    if (this.stopped || (data.type === 'node' && !this.admitNode(data))) {
      // Skipped input is dropped at once: MailParser already yields between chunks.
      done();
      return;
    }
    internals.processChunk.call(this, data, done);
  }

  /** Called by MailParser once the input has ended, to assemble text and HTML. */
  getTextContent(): unknown {
    this.capTextParts();
    return internals.getTextContent.call(this);
  }

  /** Counts the node against the bounds; false (and stopped) when it is past one of them. */
  private admitNode(node: SplitterChunk): boolean {
    this.parts += 1;
    const parentDepth = node.parentNode ? this.depths.get(node.parentNode) : undefined;
    const depth = parentDepth === undefined ? 0 : parentDepth + 1;
    this.depths.set(node, depth);
    if (this.parts > this.bounds.maxParts) return this.stop('maxParts');
    if (depth > this.bounds.maxMimeDepth) return this.stop('maxMimeDepth');
    if (node.headers) {
      let lines = node.headers.getList();
      const { keep, hit } = headerLinesWithin(lines, this.bounds);
      if (hit) {
        lines = lines.slice(0, keep);
        node.headers.lines = lines;
        this.recorder.hit(hit);
      }
      if (cutLongHeaderFields(lines, this.bounds)) this.recorder.hit('maxHeaderFieldBytes');
    }
    return true;
  }

  private stop(bound: 'maxParts' | 'maxMimeDepth'): false {
    this.recorder.hit(bound);
    this.stopped = true;
    return false;
  }

  /** Cuts every text/HTML part to the per-part bound; the tree is at most maxMimeDepth deep. */
  private capTextParts(): void {
    const max = this.bounds.maxTextCharsPerPart;
    const pending: TreeNode[] = this.tree ? [this.tree] : [];
    for (let node = pending.pop(); node; node = pending.pop()) {
      if (typeof node.textContent === 'string' && node.textContent.length > max) {
        node.textContent = node.textContent.slice(0, max);
        this.recorder.hit('maxTextCharsPerPart');
      }
      if (node.children) pending.push(...node.children);
    }
  }
}
