import { describe, expect, it } from 'vitest';
import { looksLikeTraceId, resolveSearch, targetPath } from './search';

const probes = (known: { traces?: string[]; sessions?: string[]; users?: string[] }) => {
  const calls: string[] = [];
  return {
    calls,
    probe: {
      trace: async (id: string) => { calls.push(`trace:${id}`); return (known.traces ?? []).includes(id); },
      session: async (id: string) => { calls.push(`session:${id}`); return (known.sessions ?? []).includes(id); },
      user: async (id: string) => { calls.push(`user:${id}`); return (known.users ?? []).includes(id); },
    },
  };
};

describe('the one search box', () => {
  const tid = '4bf92f3577b34da6a3ce929d0e0e4736';

  it('lands on a trace id, case-insensitively', async () => {
    const p = probes({ traces: [tid] });
    expect(await resolveSearch(`  ${tid.toUpperCase()} `, p.probe)).toEqual({ kind: 'trace', id: tid });
  });

  it('lands on a session, then a user, else searches text', async () => {
    expect(await resolveSearch('ticket-9421', probes({ sessions: ['ticket-9421'] }).probe)).toEqual({ kind: 'session', id: 'ticket-9421' });
    const p = probes({ users: ['user_92'] });
    expect(await resolveSearch('user_92', p.probe)).toEqual({ kind: 'user', id: 'user_92' });
    expect(p.calls).toEqual(['session:user_92', 'user:user_92']);
    expect(await resolveSearch('refund', probes({}).probe)).toEqual({ kind: 'text', q: 'refund' });
    expect(await resolveSearch('   ', probes({}).probe)).toBeNull();
  });

  it('a 32-hex text that is no trace can still be a session', async () => {
    const p = probes({ sessions: [tid] });
    expect(await resolveSearch(tid, p.probe)).toEqual({ kind: 'session', id: tid });
  });

  it('builds paths', () => {
    expect(looksLikeTraceId(tid)).toBe(true);
    expect(looksLikeTraceId('ticket-9421')).toBe(false);
    expect(targetPath({ kind: 'session', id: 'ticket/9421' })).toBe('/sessions/ticket%2F9421');
    expect(targetPath({ kind: 'user', id: 'u 1' })).toBe('/?user_id=u%201');
    expect(targetPath({ kind: 'trace', id: tid })).toBe(`/traces/${tid}`);
  });
});
