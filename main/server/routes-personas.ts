// Routes: personas (list, get, create, update, validate, import, export,
// suspend, resume) and secret names.
import { listSecretNames } from '../../personas/secrets.js';
import { resumePersona, suspendPersona } from '../../personas/suspended.js';
import {
  PersonaImportSchema, PersonaValidateSchema, PersonaWriteSchema, type SuspendResult, type ValidationResult,
} from '../api/contract.js';
import { HttpError, parseWith, readJson, sendJson, sendText } from './http.js';
import { dataFieldErrors, detail, exists, exportFile, importText, listAll, validateText, writeData } from './persona-files.js';
import type { Router } from './router.js';
import type { SessionRegistry } from './sessions.js';

export interface PersonaRouteDeps {
  readonly home: string;
  readonly sessions: SessionRegistry;
}

export function personaRoutes(r: Router, d: PersonaRouteDeps): void {
  r.add('GET', '/api/personas', ({ res }) => sendJson(res, 200, listAll(d.home)));

  r.add('GET', '/api/personas/:name', ({ res, params }) => sendJson(res, 200, detail(d.home, params.name ?? '')));

  r.add('POST', '/api/personas', async ({ req, res }) => {
    const body = parseWith(PersonaWriteSchema, await readJson(req), 'persona');
    sendJson(res, 201, writeData(d.home, body.persona, { create: true }));
  });

  r.add('PUT', '/api/personas/:name', async ({ req, res, params }) => {
    const body = parseWith(PersonaWriteSchema, await readJson(req), 'persona');
    sendJson(res, 200, writeData(d.home, body.persona, { update: params.name ?? '' }));
  });

  r.add('POST', '/api/personas/validate', async ({ req, res }) => {
    const body = parseWith(PersonaValidateSchema, await readJson(req), 'validation request');
    const fields = 'persona' in body ? dataFieldErrors(body.persona) : validateText(body.text, body.format);
    const out: ValidationResult = { ok: fields.length === 0, fields };
    sendJson(res, 200, out);
  });

  r.add('POST', '/api/personas/import', async ({ req, res }) => {
    const body = parseWith(PersonaImportSchema, await readJson(req), 'import');
    sendJson(res, 201, importText(d.home, body.text, body.filename, body.overwrite));
  });

  r.add('GET', '/api/personas/:name/export', ({ res, params }) => {
    const f = exportFile(d.home, params.name ?? '');
    sendText(res, 200, f.text, {
      'content-type': f.format === 'json' ? 'application/json; charset=utf-8' : 'application/yaml; charset=utf-8',
      'content-disposition': `attachment; filename="${f.filename}"`,
    });
  });

  r.add('POST', '/api/personas/:name/suspend', async ({ res, params }) => {
    const name = params.name ?? '';
    if (!exists(d.home, name)) throw new HttpError(404, `unknown persona ${JSON.stringify(name)}`, { code: 'not-found' });
    suspendPersona(d.home, name);
    // The kill switch for one identity: its sessions stop, everyone else's keep running.
    const stopped = await d.sessions.stopAll((s) => s.persona === name, 'suspend');
    const out: SuspendResult = { name, suspended: true, stopped };
    sendJson(res, 200, out);
  });

  r.add('POST', '/api/personas/:name/resume', ({ res, params }) => {
    const name = params.name ?? '';
    if (!exists(d.home, name)) throw new HttpError(404, `unknown persona ${JSON.stringify(name)}`, { code: 'not-found' });
    resumePersona(d.home, name);
    const out: SuspendResult = { name, suspended: false, stopped: [] };
    sendJson(res, 200, out);
  });

  r.add('GET', '/api/secrets', ({ res }) => sendJson(res, 200, { names: listSecretNames(d.home) }));
}
