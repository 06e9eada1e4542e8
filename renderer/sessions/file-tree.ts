// The Changes tab's file tree: changed paths as folders and files, a folder
// with a single child folder folded into one row (`src/lib/`). Pure.
export interface TreeFile<T> {
  readonly kind: 'file';
  readonly name: string;
  readonly path: string;
  readonly item: T;
}

export interface TreeDir<T> {
  readonly kind: 'dir';
  readonly name: string;
  readonly children: ReadonlyArray<TreeNode<T>>;
}

export type TreeNode<T> = TreeFile<T> | TreeDir<T>;

interface Building<T> {
  dirs: Map<string, Building<T>>;
  files: Array<TreeFile<T>>;
}

function toNodes<T>(b: Building<T>): Array<TreeNode<T>> {
  const dirs = [...b.dirs].sort(([a], [c]) => a.localeCompare(c)).map(([name, child]): TreeNode<T> => {
    let label = name;
    let node = child;
    // Fold a chain of single folders: src/ -> lib/ -> x.ts reads src/lib/ -> x.ts.
    while (node.files.length === 0 && node.dirs.size === 1) {
      const [[n, only]] = [...node.dirs] as [[string, Building<T>]];
      label = `${label}/${n}`;
      node = only;
    }
    return { kind: 'dir', name: label, children: toNodes(node) };
  });
  const files = [...b.files].sort((a, c) => a.name.localeCompare(c.name));
  return [...dirs, ...files];
}

export function fileTree<T>(items: readonly T[], pathOf: (item: T) => string): Array<TreeNode<T>> {
  const root: Building<T> = { dirs: new Map(), files: [] };
  for (const item of items) {
    const p = pathOf(item);
    const parts = p.split('/').filter((x) => x !== '');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      let next = node.dirs.get(part);
      if (next === undefined) node.dirs.set(part, (next = { dirs: new Map(), files: [] }));
      node = next;
    }
    node.files.push({ kind: 'file', name: parts.at(-1) ?? p, path: p, item });
  }
  return toNodes(root);
}

/** The refractor language for a file name, by its extension (undefined: shown without colours). */
export function languageOf(path: string): string | undefined {
  const name = path.split('/').pop()?.toLowerCase() ?? '';
  if (name === 'dockerfile') return 'docker';
  if (name === 'makefile') return 'makefile';
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : '';
  const map: Record<string, string> = {
    ts: 'typescript', mts: 'typescript', cts: 'typescript', tsx: 'tsx', js: 'javascript', mjs: 'javascript', cjs: 'javascript', jsx: 'jsx',
    json: 'json', css: 'css', scss: 'scss', less: 'less', html: 'markup', xml: 'markup', svg: 'markup', md: 'markdown', py: 'python',
    rb: 'ruby', go: 'go', rs: 'rust', java: 'java', kt: 'kotlin', c: 'c', h: 'c', cc: 'cpp', cpp: 'cpp', hpp: 'cpp', cs: 'csharp',
    sh: 'bash', bash: 'bash', zsh: 'bash', yaml: 'yaml', yml: 'yaml', toml: 'ini', ini: 'ini', sql: 'sql', php: 'php', swift: 'swift',
    lua: 'lua', pl: 'perl', r: 'r', diff: 'diff', graphql: 'graphql',
  };
  return map[ext];
}
