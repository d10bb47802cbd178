import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { core, z } from 'zod';

export type YamlResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/**
 * Says where a problem is in the file's own terms ("sku X, field Y: ..."), or null for the
 * plain "a.b.c: ..." form.
 */
export type DescribePath = (path: readonly PropertyKey[], message: string) => string | null;

/**
 * Parses a YAML configuration file's text against a schema; every error names the file, the
 * line, the field and the reason, so that one run reports every problem of the file.
 */
export function parseYamlWith<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  describePath: DescribePath = () => null,
): YamlResult<z.output<S>> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const line = lineCounter.linePos(e.pos[0]).line;
        return `${file}${line ? `:${line}` : ''}: YAML syntax error: ${e.message.split('\n')[0]}`;
      }),
    };
  }
  let content: unknown;
  try {
    // yaml's default (100) refuses ordinary files that share an anchor among many SKUs; a bomb
    // still expands past this many.
    content = doc.toJS({ maxAliasCount: 10_000 });
  } catch (err) {
    // An alias to nothing, or aliases that would expand without end.
    return {
      ok: false,
      errors: [`${file}: YAML error: ${err instanceof Error ? err.message : String(err)}`],
    };
  }
  if (containsItself(content))
    return { ok: false, errors: [`${file}: YAML error: an alias refers to a node that contains it`] };
  const parsed = schema.safeParse(content);
  if (parsed.success) return { ok: true, value: parsed.data };

  const lineOf = (path: readonly PropertyKey[]) => lineOfPath(doc.contents, path, lineCounter);
  return {
    ok: false,
    errors: parsed.error.issues.map((issue) => formatIssue(issue, file, lineOf, describePath)),
  };
}

/** Whether a value holds itself (a YAML alias inside its own anchor): iterative, with its ancestors. */
function containsItself(root: unknown): boolean {
  const stack: { value: unknown; ancestors: ReadonlySet<object> }[] = [{ value: root, ancestors: new Set() }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { value, ancestors } = next;
    if (value === null || typeof value !== 'object') continue;
    if (ancestors.has(value)) return true;
    const inner = new Set(ancestors).add(value);
    for (const child of Object.values(value)) stack.push({ value: child, ancestors: inner });
  }
  return false;
}

/** Line of the deepest node on `path` that exists: a key's own line for map entries. */
function lineOfPath(root: unknown, path: readonly PropertyKey[], lines: LineCounter): number | undefined {
  let node = root;
  let offset = (root as { range?: number[] } | null)?.range?.[0];
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      offset = (pair.key as { range?: number[] }).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (!item) break;
      offset = (item as { range?: number[] }).range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

function formatIssue(
  issue: core.$ZodIssue,
  file: string,
  lineOf: (path: readonly PropertyKey[]) => number | undefined,
  describePath: DescribePath,
): string {
  let path = [...issue.path];
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    path = [...path, issue.keys[0] ?? ''];
    message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  }
  if (issue.code === 'invalid_key') message = issue.issues[0]?.message ?? message;
  const line = lineOf(path);
  const where = `${file}${line ? `:${line}` : ''}`;
  const described = describePath(path, message);
  if (described !== null) return `${where}: ${described}`;
  return `${where}: ${path.length ? `${path.map(String).join('.')}: ` : ''}${message}`;
}
