// Create or edit a persona. The backend validates with the same schema and
// wording as the CLI, as you type; errors show on their field.
import { useEffect, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { PersonaDetailSchema, routes, ValidationResultSchema, type FieldError } from '../../main/api/contract.js';
import { ApiError, apiGet, apiSend } from '../api/client.js';
import { dataFromForm, EMPTY_FORM, formFromData, groupErrors, type FormField, type PersonaForm } from './form-model.js';

function Field({ label, name, errors, hint, children }: { label: string; name: FormField; errors?: string[]; hint?: string; children: ReactNode }) {
  return (
    <div className={`field${errors?.length ? ' has-error' : ''}`} data-field={name}>
      <label>
        {label}
        {children}
      </label>
      {hint && <span className="hint">{hint}</span>}
      {errors?.map((e) => <span key={e} className="field-error" role="alert">{e}</span>)}
    </div>
  );
}

export function PersonaFormPage({ name }: { name?: string }) {
  const [form, setForm] = useState<PersonaForm>(EMPTY_FORM);
  const [base, setBase] = useState<Record<string, unknown>>({});
  const [errors, setErrors] = useState<readonly FieldError[]>([]);
  const [saveError, setSaveError] = useState<string>();
  const [loaded, setLoaded] = useState(name === undefined);
  const [touched, setTouched] = useState(false);

  useEffect(() => {
    if (name === undefined) return;
    apiGet(routes.persona(name), PersonaDetailSchema)
      .then((d) => {
        setBase(d.data);
        setForm(formFromData(d.data));
        setLoaded(true);
      })
      .catch((e: Error) => setSaveError(e.message));
  }, [name]);

  const data = useMemo(() => dataFromForm(form, base), [form, base]);

  // Live validation, once the user has typed something.
  useEffect(() => {
    if (!touched) return;
    const t = window.setTimeout(() => {
      apiSend('POST', routes.personaValidate, { persona: data }, ValidationResultSchema)
        .then((r) => setErrors(r.fields))
        .catch(() => undefined);
    }, 300);
    return () => window.clearTimeout(t);
  }, [data, touched]);

  const { byField, general } = groupErrors(errors);
  const set = (k: FormField) => (e: { target: { value: string } }) => {
    setTouched(true);
    setForm((f) => ({ ...f, [k]: e.target.value }));
  };

  const save = (e: FormEvent): void => {
    e.preventDefault();
    setSaveError(undefined);
    const req = name === undefined ? apiSend('POST', routes.personas, { persona: data }, PersonaDetailSchema) : apiSend('PUT', routes.persona(name), { persona: data }, PersonaDetailSchema);
    req
      .then((d) => {
        window.location.hash = `#/personas/${d.summary.name}`;
      })
      .catch((err: Error) => {
        if (err instanceof ApiError && err.fields.length > 0) setErrors(err.fields);
        setSaveError(err.message);
      });
  };

  if (!loaded) return <p className="empty">{saveError ?? 'Loading…'}</p>;
  const text = (k: FormField, label: string, hint?: string) => (
    <Field label={label} name={k} errors={byField[k]} hint={hint}>
      <input name={k} value={form[k]} onChange={set(k)} readOnly={k === 'name' && name !== undefined} spellCheck={false} />
    </Field>
  );
  const area = (k: FormField, label: string, hint: string) => (
    <Field label={label} name={k} errors={byField[k]} hint={hint}>
      <textarea name={k} rows={3} value={form[k]} onChange={set(k)} spellCheck={false} />
    </Field>
  );
  return (
    <form className="card persona-form" onSubmit={save} aria-label="Persona">
      <h2>{name === undefined ? 'New persona' : `Edit ${name}`}</h2>
      <div className="grid2">
        {text('name', 'Name', 'a slug: lowercase letters, digits and dashes')}
        {text('display_name', 'Display name')}
        {text('owner', 'Owner', 'the human or team accountable')}
        <Field label="Agent" name="agent" errors={byField.agent}>
          <select name="agent" value={form.agent} onChange={set('agent')}>
            {['claude', 'codex', 'gemini', 'shell'].map((a) => <option key={a} value={a}>{a}</option>)}
          </select>
        </Field>
        <Field label="Execution mode" name="execution_mode" errors={byField.execution_mode}>
          <select name="execution_mode" value={form.execution_mode} onChange={set('execution_mode')}>
            <option value="approve">approve (unmatched calls wait for a human)</option>
            <option value="autonomous">autonomous</option>
            <option value="observe">observe (runs what approve would ask about, and records it: for learning a persona)</option>
          </select>
        </Field>
        {text('expires', 'Expires', 'a date like 2026-12-31; empty: never')}
      </div>
      {area('purpose', 'Purpose', 'what this persona is for, in a sentence')}
      <div className="grid2">
        {area('write', 'Writable paths', 'one per line; {workspace} is the session workspace; empty: nothing writable')}
        {area('read_deny', 'Hidden paths', 'one per line, e.g. ~/.ssh')}
        {area('network_allow', 'Network: allow', 'domains, one per line (example.com, *.example.com), or HTTP rules (GET,HEAD registry.npmjs.org/**); empty: no network')}
        {area('network_deny', 'Network: deny', 'domains refused even when allowed')}
        {area('tools_allow', 'Tools: allow', 'rules like Bash(npm run test:*), Read, Edit(src/**)')}
        {area('tools_ask', 'Tools: ask', 'calls that wait for a human')}
        {area('tools_deny', 'Tools: deny', 'e.g. Bash(git push:*)')}
        {area('credentials', 'Credentials', 'ENV_NAME=secret:NAME hosts=api.example.com, one per line; the agent sees a placeholder, the proxy sends the value to those hosts only')}
        {text('max_runtime', 'Max runtime', 'e.g. 30m or 8h')}
        {text('max_tool_calls', 'Max tool calls')}
        {text('approval_timeout', 'Approval timeout', 'default 5m')}
      </div>
      {general.length > 0 && <ul className="errors" role="alert">{general.map((g) => <li key={g}>{g}</li>)}</ul>}
      {saveError && <p className="error-text" role="alert">{saveError}</p>}
      <div className="actions">
        <button type="submit" className="primary">Save</button>
        <a href={name === undefined ? '#/personas' : `#/personas/${name}`}>Cancel</a>
      </div>
    </form>
  );
}
