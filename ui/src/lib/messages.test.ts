import { describe, expect, it } from 'vitest';
import { exceptions, parseMaybeJson, parseMessages, previewText, retrievalDocuments } from './messages';

describe('parseMessages', () => {
  it('reads the canonical form: text, tool calls with arguments, finish reason', () => {
    const msgs = parseMessages([
      { role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Refund INV-1' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'c1', name: 'issue_refund', arguments: { invoice_id: 'INV-1' } }], finish_reason: 'tool_calls' },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'c1', response: '{"ok":true}' }] },
    ]);
    expect(msgs).not.toBeNull();
    expect(msgs!.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(msgs![1].parts).toEqual([{ type: 'text', text: 'Refund INV-1' }]);
    expect(msgs![2].parts[0]).toEqual({ type: 'tool_call', id: 'c1', name: 'issue_refund', arguments: { invoice_id: 'INV-1' } });
    expect(msgs![2].finishReason).toBe('tool_calls');
    expect(msgs![3].parts[0]).toEqual({ type: 'tool_result', id: 'c1', result: { ok: true } });
  });

  it('reads OpenAI chat form and JSON text of it', () => {
    const text = JSON.stringify([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'x', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
      { role: 'tool', tool_call_id: 'x', content: '42' },
    ]);
    const msgs = parseMessages(text)!;
    expect(msgs[0].parts).toEqual([{ type: 'text', text: 'hi' }]);
    expect(msgs[1].parts).toEqual([{ type: 'tool_call', id: 'x', name: 'f', arguments: { a: 1 } }]);
    expect(msgs[2].parts).toEqual([{ type: 'tool_result', id: 'x', result: '42' }]);
  });

  it('reads {messages:[...]}, single messages, content arrays and role aliases', () => {
    expect(parseMessages({ messages: [{ role: 'human', content: 'q' }] })![0]).toEqual({ role: 'user', parts: [{ type: 'text', text: 'q' }] });
    expect(parseMessages({ role: 'assistant', content: [{ type: 'text', text: 'a' }, { type: 'thinking', thinking: 'hmm' }] })![0].parts)
      .toEqual([{ type: 'text', text: 'a' }, { type: 'reasoning', text: 'hmm' }]);
    expect(parseMessages([{ role: 'user', parts: [{ type: 'image', uri: 'x' }] }])![0].parts[0]).toMatchObject({ type: 'other', kind: 'image' });
  });

  it.each([
    ['plain text', 'duplicate charge refund policy'],
    ['tool arguments', { invoice_id: 'INV-1' }],
    ['a list of non-messages', [{ id: 1 }]],
    ['an empty list', []],
    ['null', null],
    ['broken JSON', '[{"role":'],
  ])('%s is not a conversation', (_name, v) => expect(parseMessages(v)).toBeNull());
});

describe('payload helpers', () => {
  it('parseMaybeJson parses objects and arrays only', () => {
    expect(parseMaybeJson('{"a":1}')).toEqual({ a: 1 });
    expect(parseMaybeJson(' [1] ')).toEqual([1]);
    expect(parseMaybeJson('42')).toBe('42');
    expect(parseMaybeJson('{bad')).toBe('{bad');
    expect(parseMaybeJson(7)).toBe(7);
  });

  it('previews the last user question and the assistant answer', () => {
    const input = [
      { role: 'system', parts: [{ type: 'text', content: 'sys' }] },
      { role: 'user', parts: [{ type: 'text', content: 'first' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Was I  charged\ntwice?' }] },
    ];
    expect(previewText(input, 'user')).toBe('Was I charged twice?');
    expect(previewText([{ role: 'assistant', parts: [{ type: 'tool_call', name: 'lookup', arguments: {} }] }], 'assistant')).toBe('→ lookup(…)');
    expect(previewText('x'.repeat(300), 'user', 10)).toBe('xxxxxxxxx…');
    expect(previewText({ a: 1 }, 'user')).toBe('{"a":1}');
    expect(previewText(null, 'user')).toBe('');
  });

  it('merges retrieval documents from output and attributes', () => {
    const docs = retrievalDocuments(
      { documents: [{ id: 'kb-1', score: 0.9 }, { id: 'kb-2', score: 0.5 }] },
      {
        'retrieval.documents': JSON.stringify([{ id: 'kb-1', score: 0.9, content: 'Refunds take 5 days.' }]),
        'retrieval.documents.1.document.id': 'kb-2', 'retrieval.documents.1.document.content': 'Approval above $20.',
        'retrieval.documents.2.document.id': 'kb-3', 'retrieval.documents.2.document.score': '0.25',
      },
    );
    expect(docs).toEqual([
      { id: 'kb-1', score: 0.9, content: 'Refunds take 5 days.' },
      { id: 'kb-2', score: 0.5, content: 'Approval above $20.' },
      { id: 'kb-3', score: 0.25, content: '' },
    ]);
    expect(retrievalDocuments(null, {})).toEqual([]);
  });

  it('reads exception events', () => {
    expect(exceptions([
      { name: 'retry', time_ns: 1, attributes: {} },
      { name: 'exception', time_ns: 2, attributes: { 'exception.type': 'TimeoutError', 'exception.message': 'slow', 'exception.stacktrace': 'at x' } },
    ])).toEqual([{ type: 'TimeoutError', message: 'slow', stacktrace: 'at x', timeNs: 2 }]);
  });
});
