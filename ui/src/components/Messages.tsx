// A model call's input and output read as the conversation it was: one bubble per
// message (system, user, assistant, tool), tool calls with their arguments as JSON,
// tool results, reasoning folded away.
import type { Message, Part } from '../lib/messages';
import { JsonView, LongText } from './JsonView';

export function Conversation({ messages, label }: { messages: Message[]; label?: string }) {
  return (
    <div className="conversation" aria-label={label}>
      {messages.map((m, i) => (
        <div key={i} className={`msg msg-${m.role}`} data-role={m.role}>
          <div className="msg-role">
            {m.role}{m.name ? ` · ${m.name}` : ''}{m.finishReason ? <span className="msg-finish"> finish: {m.finishReason}</span> : null}
          </div>
          {m.parts.length === 0 && <div className="muted">(empty)</div>}
          {m.parts.map((p, j) => <PartView key={j} part={p} />)}
        </div>
      ))}
    </div>
  );
}

function PartView({ part }: { part: Part }) {
  switch (part.type) {
    case 'text':
      return <LongText text={part.text} />;
    case 'reasoning':
      return (
        <details className="reasoning">
          <summary>reasoning ({part.text.length.toLocaleString()} chars)</summary>
          <LongText text={part.text} />
        </details>
      );
    case 'tool_call':
      return (
        <div className="tool-call" data-tool={part.name}>
          <div className="tool-call-head">
            <span className="tool-icon">ƒ</span> <strong>{part.name || '(unnamed tool)'}</strong>
            {part.id && <span className="muted mono"> {part.id}</span>}
          </div>
          {typeof part.arguments === 'string' ? <LongText text={part.arguments} /> : <JsonView value={part.arguments} />}
        </div>
      );
    case 'tool_result':
      return (
        <div className="tool-result">
          <div className="tool-call-head">result{part.id && <span className="muted mono"> {part.id}</span>}</div>
          {typeof part.result === 'string' ? <LongText text={part.result} /> : <JsonView value={part.result} />}
        </div>
      );
    default:
      return (
        <div className="part-other">
          <div className="muted">{part.kind}</div>
          <JsonView value={part.value} openDepth={1} />
        </div>
      );
  }
}
