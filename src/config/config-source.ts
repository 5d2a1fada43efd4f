import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError } from '../errors.js';

/** One thing wrong with the configuration: the key at fault and what is wrong with it. */
export interface ConfigProblem {
  path: readonly (string | number)[];
  message: string;
}

/**
 * Every problem found in a configuration, one line each ("FILE:LINE: KEY: what is wrong", or
 * "HERMOD_X (KEY): what is wrong" when an environment variable set the key). The message holds
 * all lines, so an operator fixes them in one round instead of one per start attempt.
 */
export class ConfigProblemsError extends ConfigError {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

/**
 * Where the configuration came from: the YAML file (kept as a document so a key path can be
 * turned into a line number) and the environment variables that set keys.
 */
export class ConfigSource {
  private constructor(
    readonly file: string | undefined,
    private readonly doc: Document | undefined,
    private readonly lines: LineCounter | undefined,
    readonly envSources: ReadonlyMap<string, string>,
  ) {}

  /** Parses `text` read from `file`; a YAML syntax error is thrown at once with its line. */
  static fromYaml(file: string, text: string, envSources: ReadonlyMap<string, string>): ConfigSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
    if (doc.errors.length > 0) {
      const first = doc.errors[0];
      const line = lines.linePos(first.pos[0]).line;
      throw new ConfigError(`${file}:${line}: invalid YAML: ${first.message.split('\n')[0]}`);
    }
    return new ConfigSource(file, doc, lines, envSources);
  }

  static withoutFile(envSources: ReadonlyMap<string, string>): ConfigSource {
    return new ConfigSource(undefined, undefined, undefined, envSources);
  }

  /** The file's contents as plain values. */
  values(): unknown {
    return this.doc?.toJS() ?? {};
  }

  /** The variable that set `path` or one of its parents, if any. */
  envVariable(path: readonly (string | number)[]): string | undefined {
    for (let n = path.length; n > 0; n--) {
      const name = this.envSources.get(path.slice(0, n).join('.'));
      if (name) return name;
    }
    return undefined;
  }

  /** One problem as one line, prefixed with where the key was set. */
  describe(problem: ConfigProblem): string {
    const key = problem.path.join('.') || '(top level)';
    const variable = this.envVariable(problem.path);
    if (variable) return `${variable} (${key}): ${problem.message}`;
    if (!this.file) return `configuration: ${key}: ${problem.message}`;
    const line = this.lineOf(problem.path);
    return `${this.file}${line ? `:${line}` : ''}: ${key}: ${problem.message}`;
  }

  /** The line of the key at `path`, or of its nearest ancestor written in the file. */
  lineOf(path: readonly (string | number)[]): number | undefined {
    if (!this.doc || !this.lines) return undefined;
    for (let n = path.length; n > 0; n--) {
      const parent = n === 1 ? this.doc.contents : this.doc.getIn(path.slice(0, n - 1), true);
      if (!isMap(parent) && !(parent && 'items' in (parent as object))) continue;
      const offset = keyOffset(parent, path[n - 1]);
      if (offset !== undefined) return this.lines.linePos(offset).line;
    }
    return undefined;
  }
}

/** The offset of the key (or list item) `part` inside a YAML map or sequence node. */
function keyOffset(node: unknown, part: string | number): number | undefined {
  const items = (node as { items?: unknown[] }).items ?? [];
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key as { value?: unknown; range?: [number, number, number] } | null;
      if (key && String(key.value) === String(part)) return key.range?.[0];
    }
    return undefined;
  }
  if (typeof part !== 'number') return undefined;
  const item = items[part] as { range?: [number, number, number] } | undefined;
  return item?.range?.[0];
}
