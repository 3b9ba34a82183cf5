// The first screen of an empty server: how to point an OpenTelemetry SDK here, and a
// button that loads the demo run (POST /api/v1/demo) so there is something to read.
import { useState } from 'react';
import { api } from '../api';
import { CopyButton } from './common';

export function EmptyState({ onLoaded }: { onLoaded: () => void | Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const origin = window.location.origin;
  const env = `export OTEL_EXPORTER_OTLP_ENDPOINT=${origin}\nexport OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`;
  return (
    <div className="empty" data-testid="empty-state">
      <h2>No traces yet</h2>
      <p>Point any OpenTelemetry, OpenInference, Langfuse or Traceloop exporter at this server:</p>
      <div className="env-block">
        <pre>{env}</pre>
        <CopyButton text={env} />
      </div>
      <p className="muted">
        Then run your agent; its traces appear here within a second. Langfuse SDKs: set the base URL
        to <code>{origin}</code>.
      </p>
      <p>Or look around first with a realistic multi-agent support run:</p>
      <button
        type="button"
        className="primary"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError('');
          try {
            await api.loadDemo();
            await onLoaded();
          } catch (e) {
            setError((e as Error).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? 'Loading…' : 'Load demo run'}
      </button>
      {error && <p className="error-text" role="alert">{error}</p>}
      <p className="muted">From a terminal: <code>sightline demo</code></p>
    </div>
  );
}
