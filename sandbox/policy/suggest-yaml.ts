// A suggested persona as a YAML persona file with comments: a header naming
// the sessions it was learned from, one comment per learned grant (how often
// and whether it was denied when recorded), and at the end what was left out
// on purpose. `parsePersonaText` of the result gives the persona back.
import { Document, isMap, isScalar, isSeq } from 'yaml';
import type { Node, Pair, YAMLMap } from 'yaml';
import type { Suggestion } from './suggest.js';

const SECTIONS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['network', ['network', 'allow']],
  ['write', ['filesystem', 'write']],
  ['tools', ['tools', 'allow']],
];

function safe(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

export function suggestionToYaml(s: Suggestion): string {
  const doc = new Document(s.persona, { aliasDuplicateObjects: false });
  doc.commentBefore = [
    ` Suggested by personae persona suggest from ${s.sessions.length === 1 ? 'session' : 'sessions'} ${s.sessions.join(', ')}.`,
    ' The narrowest grants that would have let them do what they did; review before installing.',
    ' Identity, hidden paths, credentials, deny and ask lists and limits come from the persona they ran as.',
  ].join('\n');
  for (const [section, path] of SECTIONS) {
    const seq = doc.getIn(path, true);
    if (!isSeq(seq)) continue;
    for (const item of seq.items as Node[]) {
      if (!isScalar(item)) continue;
      const note = s.notes.get(`${section}:${String(item.value)}`);
      if (note !== undefined) item.comment = ` ${safe(note)}`;
    }
  }
  const root = doc.contents;
  if (isMap(root)) {
    const mode = (root as YAMLMap).items.find((p: Pair) => isScalar(p.key) && p.key.value === 'execution_mode');
    if (mode !== undefined && isScalar(mode.value) && mode.value.value === 'approve') {
      mode.value.comment = ' calls no rule covers wait for a human (observe: run them and record, to keep learning)';
    }
  }
  if (s.leftOut.length > 0) {
    doc.comment = [
      ' Left out on purpose (add by hand what is meant):',
      ...s.leftOut.slice(0, 200).map((l) => ` - ${safe(l.what)}: ${safe(l.why)}`),
      ...(s.leftOut.length > 200 ? [` ... and ${s.leftOut.length - 200} more`] : []),
    ].join('\n');
  }
  const out = doc.toString({ lineWidth: 0 });
  return out.endsWith('\n') ? out : `${out}\n`;
}
