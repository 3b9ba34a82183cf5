// Authentication as the UI sees it (docs/auth.md, "UI login"): what GET
// /api/v1/auth/status says, what the shell should show for it, and the CSRF token a
// cookie-authenticated POST must echo (double submit: the server set it in the
// readable cookie sl_csrf at login).

export interface AuthStatus {
  mode: 'open' | 'required';
  authenticated: boolean;
  kind?: 'open' | 'api_key' | 'token' | 'session';
  subject?: string;
  projects?: { name: string; role: string }[];
}

// 'open': no auth configured (show the notice); 'login': show the login form;
// 'in': signed in (show who, and a sign-out button when it is a session).
export type Gate = 'open' | 'login' | 'in';

export function gateFor(status: AuthStatus): Gate {
  if (status.mode === 'open') return 'open';
  return status.authenticated ? 'in' : 'login';
}

// The value of the sl_csrf cookie in a document.cookie string, or null.
export function csrfFromCookie(cookie: string): string | null {
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === 'sl_csrf') {
      const v = part.slice(eq + 1).trim();
      return v === '' ? null : decodeURIComponent(v);
    }
  }
  return null;
}

// Headers for a state-changing request from the page.
export function csrfHeaders(cookie: string): Record<string, string> {
  const token = csrfFromCookie(cookie);
  return token ? { 'x-csrf-token': token } : {};
}

// The message to show for a failed login answer.
export function loginError(status: number, retryAfter: string | null): string {
  if (status === 429) {
    const s = Number(retryAfter);
    const wait = Number.isFinite(s) && s > 0 ? (s >= 120 ? `${Math.ceil(s / 60)} minutes` : `${s} seconds`) : 'a while';
    return `Too many failed attempts. Try again in ${wait}.`;
  }
  if (status === 401) return 'Wrong user name or password.';
  return `Login failed (HTTP ${status}).`;
}
