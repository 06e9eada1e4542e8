// One session's patch, file by file, with react-diff-view (unified or side
// by side) and syntax colours from refractor (Prism's grammars), words
// changed within a line marked. A file's header says whether it is
// committed on the session's branch or was left uncommitted.
import { useMemo } from 'react';
import { Diff, Hunk, markEdits, parseDiff, tokenize, type FileData, type HunkTokens, type ViewType } from 'react-diff-view';
import 'react-diff-view/style/index.css';
import { refractor } from 'refractor';
import type { ChangedFile } from '../../main/api/contract.js';
import { languageOf } from './file-tree.js';

type TokenizeRefractor = Extract<Parameters<typeof tokenize>[1], { highlight: true }>['refractor'];

/** refractor 5 answers a root node; react-diff-view's tokenizer (written for refractor 2) wants its children. */
const highlighter = {
  highlight: (code: string, language: string) => refractor.highlight(code, language).children,
} as unknown as TokenizeRefractor;

function tokensFor(file: FileData, path: string): HunkTokens | null {
  const language = languageOf(path);
  try {
    const enhancers = [markEdits(file.hunks, { type: 'block' })];
    if (language === undefined || !refractor.registered(language)) return tokenize(file.hunks, { enhancers });
    return tokenize(file.hunks, { highlight: true, refractor: highlighter, language, enhancers });
  } catch {
    return null;
  }
}

export function filePath(f: FileData): string {
  return f.type === 'delete' ? f.oldPath : f.newPath;
}

/** Stable anchor for a file's diff (the tree links to it). */
export function fileAnchor(path: string): string {
  return `diff-${encodeURIComponent(path).replace(/%/g, '_')}`;
}

function FileDiff({ file, info, view }: { file: FileData; info: ChangedFile | undefined; view: ViewType }) {
  const path = filePath(file);
  const tokens = useMemo(() => tokensFor(file, path), [file, path]);
  return (
    <section className="file-diff" id={fileAnchor(path)} data-path={path}>
      <header className="file-diff-head">
        <span className={`file-status s-${info?.status ?? 'M'}`}>{info?.status ?? 'M'}</span>
        <code>{path}</code>
        {info && info.added !== null && <span className="muted small"><span className="d-allowed">+{info.added}</span> <span className="d-denied">−{info.deleted}</span></span>}
        {info?.uncommitted && <span className="badge warn">uncommitted</span>}
      </header>
      {file.hunks.length === 0 ? (
        <p className="muted small file-diff-empty">{file.isBinary ? 'Binary file.' : 'No textual change (mode or empty file).'}</p>
      ) : (
        <Diff viewType={view} diffType={file.type} hunks={file.hunks} tokens={tokens}>
          {(hunks) => hunks.map((h) => <Hunk key={h.content} hunk={h} />)}
        </Diff>
      )}
    </section>
  );
}

export function DiffView({ patch, files, view }: { patch: string; files: readonly ChangedFile[]; view: ViewType }) {
  const parsed = useMemo(() => {
    try {
      return parseDiff(patch, { nearbySequences: 'zip' });
    } catch {
      return [];
    }
  }, [patch]);
  const byPath = useMemo(() => new Map(files.map((f) => [f.path, f])), [files]);
  if (parsed.length === 0) return <p className="empty">No changes.</p>;
  return (
    <div className={`diff-list view-${view}`}>
      {parsed.slice(0, 300).map((f) => <FileDiff key={filePath(f)} file={f} info={byPath.get(filePath(f))} view={view} />)}
      {parsed.length > 300 && <p className="muted small">…and {parsed.length - 300} more files (personae diff SESSION prints them all).</p>}
    </div>
  );
}
