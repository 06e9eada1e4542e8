// The app shell: header (navigation, connection, Stop all), approvals, and
// the page chosen by the URL hash.
import { useEffect, useState } from 'react';
import { ApprovalCards } from './approvals/approval-cards.js';
import { useLive } from './api/live-state.js';
import { LiveFeed } from './feed/live-feed.js';
import { PersonaFormPage } from './personas/persona-form.js';
import { PersonaListPage } from './personas/persona-list.js';
import { PersonaView } from './personas/persona-view.js';
import { ReviewPage } from './review/review-page.js';
import { LaunchForm } from './sessions/launch-form.js';
import { SessionList } from './sessions/session-list.js';
import { SessionView } from './sessions/session-view.js';
import { StopAll } from './stop-all.js';

function useHash(): string {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const on = (): void => setHash(window.location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function Page({ path }: { path: string[] }) {
  const [a, b, c] = path;
  if (a === 'sessions' && b) return <SessionView key={b} id={b} tab={c} />;
  if (a === 'launch') return <LaunchForm key={b ?? ''} initialPersona={b} />;
  if (a === 'personas' && b === 'new') return <PersonaFormPage />;
  if (a === 'personas' && b && c === 'edit') return <PersonaFormPage key={b} name={b} />;
  if (a === 'personas' && b) return <PersonaView key={b} name={b} />;
  if (a === 'personas') return <PersonaListPage />;
  if (a === 'review') return <ReviewPage />;
  return (
    <div className="home">
      <section className="card">
        <h2>Sessions</h2>
        <SessionList />
      </section>
      <section className="card grow">
        <h2>Live activity</h2>
        <LiveFeed label="All events" />
      </section>
    </div>
  );
}

const NAV: Array<[string, string]> = [['#/', 'Sessions'], ['#/launch', 'Launch'], ['#/personas', 'Personas'], ['#/review', 'Morning review']];

export function App() {
  const hash = useHash();
  const live = useLive();
  const path = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const section = `#/${path[0] ?? ''}`;
  return (
    <div className="app">
      <header className="topbar">
        <h1>personae</h1>
        <nav>
          {NAV.map(([href, label]) => (
            <a key={href} href={href} className={section === href || (href === '#/' && section === '#/sessions') ? 'active' : ''}>{label}</a>
          ))}
        </nav>
        <span className={`conn conn-${live.connection}`} title="live stream">{live.connection === 'open' ? 'live' : live.connection}</span>
        <StopAll />
      </header>
      <ApprovalCards />
      <main>
        <Page path={path} />
      </main>
    </div>
  );
}
