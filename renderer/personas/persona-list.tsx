// Personas with owner, purpose and grants at a glance; import, export,
// suspend and resume.
import { useCallback, useEffect, useState, type ChangeEvent } from 'react';
import {
  PersonaDetailSchema, PersonaListSchema, routes, SuspendResultSchema, type PersonaList as List, type PersonaSummary,
} from '../../main/api/contract.js';
import { apiGet, apiSend, downloadUrl } from '../api/client.js';
import { PersonaChip } from '../ui/persona-chip.js';
import { knowPersonas } from '../ui/persona-colours.js';

function Grants({ p }: { p: PersonaSummary }) {
  const g = p.grants;
  const creds = Object.entries(g.credentials);
  const rows: Array<[string, string]> = [
    ['writes', g.write.length ? g.write.join(', ') : 'nothing'],
    ['network', g.network_allow.length ? g.network_allow.join(', ') : 'none'],
    ['tools', [g.tools_allow.length && `allow ${g.tools_allow.length}`, g.tools_ask.length && `ask ${g.tools_ask.length}`, g.tools_deny.length && `deny ${g.tools_deny.length}`].filter(Boolean).join(' · ') || `no rules (${p.execution_mode})`],
    ['credentials', creds.length ? creds.map(([env, secret]) => `${env} ← ${secret}`).join(', ') : 'none'],
  ];
  return <dl className="grants">{rows.map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}</dl>;
}

export function SuspendToggle({ p, onDone }: { p: PersonaSummary; onDone: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const toggle = (): void => {
    setBusy(true);
    apiSend('POST', p.suspended ? routes.personaResume(p.name) : routes.personaSuspend(p.name), {}, SuspendResultSchema)
      .then(onDone)
      .catch((e: Error) => setError(e.message))
      .finally(() => setBusy(false));
  };
  return (
    <>
      <button type="button" className={p.suspended ? '' : 'warn'} onClick={toggle} disabled={busy}>{p.suspended ? 'Resume' : 'Suspend'}</button>
      {error && <span className="error-text">{error}</span>}
    </>
  );
}

export function PersonaListPage() {
  const [list, setList] = useState<List>();
  const [error, setError] = useState<string>();
  const [importMsg, setImportMsg] = useState<string>();
  const reload = useCallback(() => {
    apiGet(routes.personas, PersonaListSchema)
      .then((l) => {
        knowPersonas(l.personas.map((p) => p.name));
        setList(l);
      })
      .catch((e: Error) => setError(e.message));
  }, []);
  useEffect(reload, [reload]);

  const importFile = (e: ChangeEvent<HTMLInputElement>): void => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    void file.text().then((text) => {
      const send = (overwrite: boolean): Promise<void> =>
        apiSend('POST', routes.personaImport, { text, filename: file.name, overwrite }, PersonaDetailSchema).then((d) => {
          setImportMsg(`imported ${d.summary.name}`);
          reload();
        });
      send(false).catch((err: Error) => {
        if (/already exists/.test(err.message) && window.confirm(`${err.message}. Replace it?`)) send(true).catch((e2: Error) => setImportMsg(e2.message));
        else setImportMsg(err.message);
      });
    });
  };

  return (
    <div className="personas">
      <div className="toolbar">
        <h2>Personas</h2>
        <a className="button primary" href="#/personas/new">New persona</a>
        <label className="button">
          Import…
          <input type="file" accept=".yaml,.yml,.json" onChange={importFile} hidden aria-label="Import persona file" />
        </label>
        {importMsg && <span className="muted" role="status">{importMsg}</span>}
      </div>
      {error && <p className="error-text">{error}</p>}
      {list?.personas.length === 0 && <p className="empty">No personas yet. Create one, import a file, or run <code>personae persona install shell</code>.</p>}
      <div className="persona-cards">
        {list?.personas.map((p) => (
          <article key={p.name} className={`card persona-card${p.suspended ? ' is-suspended' : ''}`} data-persona={p.name}>
            <header>
              <PersonaChip name={p.name} />
              <a href={`#/personas/${p.name}`}><strong>{p.display_name}</strong></a>
              <span className="badge">{p.agent}</span>
              {p.suspended && <span className="badge warn">suspended</span>}
              {p.expired && <span className="badge warn">expired</span>}
            </header>
            <p>{p.purpose}</p>
            <p className="muted small">Owner: {p.owner}{p.expires ? ` · expires ${p.expires.slice(0, 10)}` : ' · no expiry'}</p>
            <Grants p={p} />
            <div className="actions">
              <a href={`#/launch/${p.name}`}>Launch</a>
              <a href={`#/personas/${p.name}/edit`}>Edit</a>
              <a href={downloadUrl(routes.personaExport(p.name))} download>Export</a>
              <SuspendToggle p={p} onDone={reload} />
            </div>
          </article>
        ))}
      </div>
      {list && list.invalid.length > 0 && (
        <section className="card">
          <h3>Files that do not validate</h3>
          {list.invalid.map((i) => (
            <div key={i.file}>
              <code>{i.file}</code>
              <ul className="errors">{i.errors.map((e) => <li key={e}>{e}</li>)}</ul>
            </div>
          ))}
        </section>
      )}
    </div>
  );
}
