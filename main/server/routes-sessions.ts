// Routes: sessions (list, get, launch, stop, stop all), events (query with
// filters and paging), approvals, the morning review and its exports.
import { toJsonl } from '../../sandbox/audit/export.js';
import type { AuditFilter, AuditStore } from '../../sandbox/audit/store.js';
import {
  ApprovalAnswerSchema, EventQuerySchema, LaunchRequestSchema, ReviewQuerySchema, SessionListQuerySchema,
  type Defaults, type EventPage, type SuggestedPersona,
} from '../api/contract.js';
import { LaunchRefusal } from '../launch.js';
import { suggestFromSessions } from '../persona-suggest.js';
import type { ApprovalProvider } from './approvals.js';
import { HttpError, parseWith, queryObject, readJson, sendJson, sendText } from './http.js';
import { listAll } from './persona-files.js';
import { endOrphanedSessions } from '../session-stop.js';
import { loadReview, rangeEvents, reviewRange } from './review.js';
import { renderReviewHtml } from './review-html.js';
import type { Router } from './router.js';
import type { SessionRegistry } from './sessions.js';

export interface SessionRouteDeps {
  readonly home: string;
  readonly store: AuditStore;
  readonly sessions: SessionRegistry;
  readonly approvals: ApprovalProvider;
  readonly defaults: () => Defaults;
}

function displayNames(home: string): Map<string, string> {
  return new Map(listAll(home).personas.map((p) => [p.name, p.display_name]));
}

export function sessionRoutes(r: Router, d: SessionRouteDeps): void {
  r.add('GET', '/api/defaults', ({ res }) => sendJson(res, 200, d.defaults()));

  r.add('GET', '/api/sessions', ({ res, url }) => {
    const q = parseWith(SessionListQuerySchema, queryObject(url), 'query');
    const running = q.running === undefined ? undefined : q.running === 'true';
    sendJson(res, 200, { sessions: d.sessions.list({ running, persona: q.persona, limit: q.limit }) });
  });

  r.add('POST', '/api/sessions', async ({ req, res }) => {
    const body = parseWith(LaunchRequestSchema, await readJson(req), 'launch request');
    try {
      sendJson(res, 201, await d.sessions.launch(body));
    } catch (e) {
      if (e instanceof LaunchRefusal) throw new HttpError(e.code === 'not-found' ? 404 : 422, e.message, { code: e.code });
      throw e;
    }
  });

  r.add('POST', '/api/sessions/stop-all', async ({ res }) => sendJson(res, 200, { results: await d.sessions.stopAll() }));

  r.add('GET', '/api/sessions/:id', ({ res, params }) => {
    const info = d.sessions.info(params.id ?? '');
    if (info === undefined) throw new HttpError(404, `unknown session ${JSON.stringify(params.id)}`);
    sendJson(res, 200, info);
  });

  r.add('POST', '/api/sessions/:id/stop', async ({ res, params }) => sendJson(res, 200, await d.sessions.stop(params.id ?? '')));

  r.add('GET', '/api/sessions/:id/suggested-persona', ({ res, params }) => {
    const id = params.id ?? '';
    if (d.store.getSession(id) === null) throw new HttpError(404, `unknown session ${JSON.stringify(id)}`);
    const s = suggestFromSessions(d.home, d.store, [id]);
    sendJson(res, 200, {
      name: s.name, yaml: s.yaml, current_path: s.currentPath, changes: [...s.changes], left_out: [...s.leftOut], sessions: [...s.sessions],
    } satisfies SuggestedPersona);
  });

  r.add('GET', '/api/events', ({ res, url }) => {
    const q = parseWith(EventQuerySchema, queryObject(url), 'query');
    const filter: AuditFilter = {
      session: q.session, persona: q.persona, kind: q.kind, decision: q.decision, text: q.text, since: q.since, until: q.until,
      afterId: q.after, beforeId: q.before, limit: q.limit, order: q.order,
    };
    let events;
    try {
      events = d.store.query(filter);
    } catch (e) {
      throw new HttpError(400, (e as Error).message);
    }
    const page: EventPage = { events, has_more: events.length === q.limit };
    sendJson(res, 200, page);
  });

  r.add('GET', '/api/approvals', ({ res }) => sendJson(res, 200, { approvals: d.approvals.list() }));

  r.add('POST', '/api/approvals/:id', async ({ req, res, params }) => {
    const body = parseWith(ApprovalAnswerSchema, await readJson(req), 'answer');
    const id = params.id ?? '';
    if (!d.approvals.list().some((a) => a.id === id)) throw new HttpError(404, 'no such pending approval (answered, expired, or never asked)');
    if (!(await d.approvals.answer(id, body.decision, d.defaults().on_behalf_of))) throw new HttpError(409, 'the approval was answered or expired meanwhile');
    sendJson(res, 200, { id, decision: body.decision });
  });

  /** A review's query; sessions whose supervisor died are ended first, so a review never counts them as running. */
  const reviewQuery = (url: URL): ReturnType<typeof ReviewQuerySchema.parse> => {
    const q = parseWith(ReviewQuerySchema, queryObject(url), 'query');
    endOrphanedSessions(d.store);
    return q;
  };

  r.add('GET', '/api/review', ({ res, url }) => {
    const q = reviewQuery(url);
    sendJson(res, 200, loadReview(d.store, q, displayNames(d.home)));
  });

  r.add('GET', '/api/review/export.jsonl', ({ res, url }) => {
    const q = reviewQuery(url);
    const { since, until } = reviewRange(q, new Date());
    const { events } = rangeEvents(d.store, since, until, q.persona);
    sendText(res, 200, toJsonl(events), {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'content-disposition': `attachment; filename="personae-review-${since.toISOString().slice(0, 10)}.jsonl"`,
    });
  });

  r.add('GET', '/api/review/export.html', ({ res, url }) => {
    const q = reviewQuery(url);
    const review = loadReview(d.store, q, displayNames(d.home));
    sendText(res, 200, renderReviewHtml(review), {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      'content-disposition': `attachment; filename="personae-review-${review.since.slice(0, 10)}.html"`,
    });
  });
}
