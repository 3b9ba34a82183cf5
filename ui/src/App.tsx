// The app shell: header (nav, the one search box, theme switch) and the page for the
// current path.
import { useCallback, useEffect, useState } from 'react';
import { api, exists } from './api';
import { type AuthStatus, csrfHeaders, gateFor } from './lib/auth';
import { LoginPage } from './pages/LoginPage';
import { resolveSearch, targetPath } from './lib/search';
import { Link, RouterProvider, useRouter } from './router';
import { DashboardPage } from './pages/DashboardPage';
import { SessionPage } from './pages/SessionPage';
import { SessionsPage } from './pages/SessionsPage';
import { TracePage } from './pages/TracePage';
import { TracesPage } from './pages/TracesPage';

export function App() {
  return (
    <RouterProvider>
      <Shell />
    </RouterProvider>
  );
}

// Asks the server whether auth is on before anything else; shows the login form while
// it is and the browser has no session, and a notice while it is off.
function useAuthStatus(): [AuthStatus | null, () => void] {
  const [status, setStatus] = useState<AuthStatus | null>(null);
  const refresh = useCallback(() => {
    fetch('/api/v1/auth/status', { headers: { Accept: 'application/json' } })
      .then((r) => (r.ok ? r.json() : null))
      .then((s: AuthStatus | null) => setStatus(s ?? { mode: 'open', authenticated: true }))
      .catch(() => setStatus({ mode: 'open', authenticated: true }));  // unreachable: pages say so themselves
  }, []);
  useEffect(refresh, [refresh]);
  return [status, refresh];
}

function AuthBadge({ status, onChange }: { status: AuthStatus; onChange: () => void }) {
  const gate = gateFor(status);
  if (gate === 'open') {
    return (
      <span className="auth-open" title="No API key or user is configured: anyone who can reach this server may read and write every project. See docs/auth.md.">
        Open mode: no auth
      </span>
    );
  }
  if (status.kind !== 'session') return null;
  return (
    <span className="auth-user">
      {status.subject}{' '}
      <button
        type="button"
        onClick={async () => {
          await fetch('/api/v1/auth/logout', { method: 'POST', headers: csrfHeaders(document.cookie) }).catch(() => null);
          onChange();
        }}
      >
        Sign out
      </button>
    </span>
  );
}

function Shell() {
  const [auth, refreshAuth] = useAuthStatus();
  if (auth === null) return <div className="app" />;
  if (gateFor(auth) === 'login') return <div className="app"><LoginPage onDone={refreshAuth} /></div>;
  return <Pages auth={auth} refreshAuth={refreshAuth} />;
}

function Pages({ auth, refreshAuth }: { auth: AuthStatus; refreshAuth: () => void }) {
  const { location } = useRouter();
  const path = location.pathname;
  let page: React.ReactNode;
  let m: RegExpExecArray | null;
  if ((m = /^\/traces\/([^/]+)\/?$/.exec(path))) {
    page = <TracePage key={m[1]} traceId={decodeURIComponent(m[1])} />;
  } else if ((m = /^\/sessions\/(.+?)\/?$/.exec(path))) {
    page = <SessionPage key={m[1]} sessionId={decodeURIComponent(m[1])} />;
  } else if (/^\/sessions\/?$/.test(path)) {
    page = <SessionsPage />;
  } else if (/^\/dashboard\/?$/.test(path)) {
    page = <DashboardPage />;
  } else if (path === '/' || path === '/traces' || path === '/traces/') {
    page = <TracesPage />;
  } else {
    page = (
      <div className="page"><div className="empty"><h2>Not found</h2><p>No page at <code>{path}</code>.</p>
        <Link to="/">Go to traces</Link></div></div>
    );
  }
  const section = path.startsWith('/sessions') ? 'sessions' : path.startsWith('/dashboard') ? 'dashboard' : 'traces';
  return (
    <div className="app">
      <header className="topbar">
        <Link to="/" className="brand"><span className="brand-dot" />Sightline</Link>
        <nav>
          <Link to="/" className={section === 'traces' ? 'active' : ''}>Traces</Link>
          <Link to="/sessions" className={section === 'sessions' ? 'active' : ''}>Sessions</Link>
          <Link to="/dashboard" className={section === 'dashboard' ? 'active' : ''}>Dashboard</Link>
        </nav>
        <SearchBox />
        <AuthBadge status={auth} onChange={refreshAuth} />
        <ThemeSwitch />
      </header>
      <main>{page}</main>
    </div>
  );
}

function SearchBox() {
  const { navigate } = useRouter();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState('');
  useEffect(() => {
    // "/" focuses the search box, as on most developer tools.
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.key === '/' && !/INPUT|TEXTAREA|SELECT/.test(t.tagName)) {
        e.preventDefault();
        document.getElementById('global-search')?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    <form
      className="search"
      role="search"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setNote('');
        try {
          const target = await resolveSearch(text, {
            trace: (id) => exists(() => api.traceLight(id)),
            session: (id) => exists(() => api.session(id)),
            user: async (id) => (await api.traces(new URLSearchParams({ user_id: id, limit: '1' }))).traces.length > 0,
          });
          if (target) navigate(targetPath(target));
        } catch (err) {
          setNote((err as Error).message);
        } finally {
          setBusy(false);
        }
      }}
    >
      <input
        id="global-search"
        type="search"
        placeholder="Trace id, session id or user id   ( / )"
        aria-label="Search by trace id, session id or user id"
        value={text}
        onChange={(e) => setText(e.target.value)}
        disabled={busy}
      />
      {note && <span className="error-text">{note}</span>}
    </form>
  );
}

function ThemeSwitch() {
  const [theme, setTheme] = useState(() => document.documentElement.dataset.theme ?? 'light');
  return (
    <button
      type="button"
      className="theme-switch"
      aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
      title="Light / dark"
      onClick={() => {
        const next = theme === 'dark' ? 'light' : 'dark';
        document.documentElement.dataset.theme = next;
        localStorage.setItem('sightline.theme', next);
        setTheme(next);
      }}
    >
      {theme === 'dark' ? '☀' : '☾'}
    </button>
  );
}
