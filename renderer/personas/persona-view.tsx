// One persona: everything it may do, and its file.
import { useCallback, useEffect, useState } from 'react';
import { PersonaDetailSchema, routes, type PersonaDetail } from '../../main/api/contract.js';
import { apiGet, downloadUrl } from '../api/client.js';
import { PersonaChip } from '../ui/persona-chip.js';
import { SuspendToggle } from './persona-list.js';

function ListRow({ label, items, empty }: { label: string; items: readonly string[]; empty: string }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{items.length ? items.map((i) => <code key={i} className="item">{i}</code>) : <span className="muted">{empty}</span>}</dd>
    </div>
  );
}

export function PersonaView({ name }: { name: string }) {
  const [d, setD] = useState<PersonaDetail>();
  const [error, setError] = useState<string>();
  const reload = useCallback(() => {
    apiGet(routes.persona(name), PersonaDetailSchema).then(setD).catch((e: Error) => setError(e.message));
  }, [name]);
  useEffect(reload, [reload]);
  if (error) return <p className="error-text">{error}</p>;
  if (!d) return <p className="empty">Loading…</p>;
  const p = d.summary;
  const g = p.grants;
  return (
    <article className="card persona-view">
      <header className="toolbar">
        <PersonaChip name={p.name} />
        <h2>{p.display_name}</h2>
        {p.suspended && <span className="badge warn">suspended</span>}
        {p.expired && <span className="badge warn">expired</span>}
        <a className="button primary" href={`#/launch/${p.name}`}>Launch</a>
        <a className="button" href={`#/personas/${p.name}/edit`}>Edit</a>
        <a className="button" href={downloadUrl(routes.personaExport(p.name))} download>Export</a>
        <SuspendToggle p={p} onDone={reload} />
      </header>
      <p>{p.purpose}</p>
      <dl className="grants wide">
        <div><dt>owner</dt><dd>{p.owner}</dd></div>
        <div><dt>agent</dt><dd>{p.agent} · {p.execution_mode}</dd></div>
        <div><dt>expires</dt><dd>{p.expires ?? 'never'}</dd></div>
        <ListRow label="writable" items={g.write} empty="nothing" />
        <ListRow label="hidden" items={g.read_deny} empty="nothing" />
        <ListRow label="network allow" items={g.network_allow} empty="no network" />
        <ListRow label="network deny" items={g.network_deny} empty="—" />
        <ListRow label="tools allow" items={g.tools_allow} empty="—" />
        <ListRow label="tools ask" items={g.tools_ask} empty="—" />
        <ListRow label="tools deny" items={g.tools_deny} empty="—" />
        <ListRow label="credentials" items={Object.entries(g.credentials).map(([env, s]) => `${env} ← secret ${s}`)} empty="none" />
        <ListRow label="limits" items={Object.entries(p.limits).map(([k, v]) => `${k}: ${String(v)}`)} empty="none" />
      </dl>
      <h3>File <span className="muted small">{p.file}</span></h3>
      <pre className="file-text">{d.text}</pre>
    </article>
  );
}
