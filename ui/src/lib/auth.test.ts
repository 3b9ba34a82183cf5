import { describe, expect, it } from 'vitest';
import { csrfFromCookie, csrfHeaders, gateFor, loginError } from './auth';

describe('gateFor', () => {
  it('shows the open notice when no auth is configured', () => {
    expect(gateFor({ mode: 'open', authenticated: true, kind: 'open' })).toBe('open');
  });
  it('asks for a login when auth is required and there is no session', () => {
    expect(gateFor({ mode: 'required', authenticated: false })).toBe('login');
  });
  it('lets a signed-in caller through', () => {
    expect(gateFor({ mode: 'required', authenticated: true, kind: 'session', subject: 'ana' })).toBe('in');
  });
});

describe('csrfFromCookie', () => {
  it('finds the token among other cookies', () => {
    expect(csrfFromCookie('theme=dark; sl_csrf=abc123; other=x')).toBe('abc123');
    expect(csrfFromCookie('sl_csrf=abc123')).toBe('abc123');
  });
  it('does not confuse similar names and empty values', () => {
    expect(csrfFromCookie('xsl_csrf=nope; sl_csrf_old=nope')).toBeNull();
    expect(csrfFromCookie('sl_csrf=')).toBeNull();
    expect(csrfFromCookie('')).toBeNull();
  });
  it('builds the header only when there is a token', () => {
    expect(csrfHeaders('sl_csrf=t')).toEqual({ 'x-csrf-token': 't' });
    expect(csrfHeaders('a=b')).toEqual({});
  });
});

describe('loginError', () => {
  it('says how long to wait when rate-limited', () => {
    expect(loginError(429, '30')).toBe('Too many failed attempts. Try again in 30 seconds.');
    expect(loginError(429, '900')).toBe('Too many failed attempts. Try again in 15 minutes.');
    expect(loginError(429, null)).toBe('Too many failed attempts. Try again in a while.');
  });
  it('never says which of user or password was wrong', () => {
    expect(loginError(401, null)).toBe('Wrong user name or password.');
  });
});
