'use strict';
// OpenTelemetry JS SDK plumbing shared by the tests: a tracer provider wired to one
// of the real OTLP exporters, and an exporter wrapper that records every export's
// result so a test can tell "the server refused the batch" from "the server lost it".

const { ExportResultCode } = require('@opentelemetry/core');
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } = require('@opentelemetry/semantic-conventions');

// Wraps a SpanExporter and keeps the results of its export() calls.
class RecordingExporter {
  constructor(inner) {
    this.inner = inner;
    this.results = []; // {code, error?, spans}
  }

  export(spans, resultCallback) {
    this.inner.export(spans, (result) => {
      this.results.push({ code: result.code, error: result.error, spans: spans.length });
      resultCallback(result);
    });
  }

  forceFlush() { return this.inner.forceFlush ? this.inner.forceFlush() : Promise.resolve(); }
  shutdown() { return this.inner.shutdown(); }

  // Throws unless at least one export happened and every export succeeded.
  assertAllSucceeded() {
    if (this.results.length === 0) throw new Error('the exporter exported nothing');
    for (const r of this.results) {
      if (r.code !== ExportResultCode.SUCCESS) {
        const e = r.error;
        throw new Error(`export of ${r.spans} spans failed: ${e && (e.stack || e.message || e)}` +
          (e && e.data ? ` (response body: ${e.data})` : '') + (e && e.code ? ` (code ${e.code})` : ''));
      }
    }
  }

  exportedSpanCount() { return this.results.reduce((n, r) => n + r.spans, 0); }
}

// Makes an exporter for `variant`:
//   proto / proto-gzip  -> @opentelemetry/exporter-trace-otlp-proto to POST /v1/traces
//   json / json-gzip    -> @opentelemetry/exporter-trace-otlp-http (JSON) to POST /v1/traces
//   grpc / grpc-gzip    -> @opentelemetry/exporter-trace-otlp-grpc to the gRPC port
function makeExporter(variant, server) {
  const gzip = variant.endsWith('-gzip');
  const compression = gzip ? 'gzip' : 'none';
  const kind = variant.replace(/-gzip$/, '');
  const httpUrl = `${server.baseUrl}/v1/traces`;
  switch (kind) {
    case 'proto': {
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
      return new OTLPTraceExporter({ url: httpUrl, compression });
    }
    case 'json': {
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
      return new OTLPTraceExporter({ url: httpUrl, compression });
    }
    case 'grpc': {
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');
      return new OTLPTraceExporter({ url: `http://${server.grpcAddr}`, compression });
    }
    default:
      throw new Error(`unknown exporter variant ${variant}`);
  }
}

// A provider whose only processor batches into a RecordingExporter around `exporter`.
function makeProvider(exporter, serviceName, extraResource = {}) {
  const recorder = new RecordingExporter(exporter);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: serviceName,
      [ATTR_SERVICE_VERSION]: '1.4.2',
      'deployment.environment.name': 'integration',
      ...extraResource,
    }),
    spanProcessors: [new BatchSpanProcessor(recorder, { scheduledDelayMillis: 200, maxExportBatchSize: 512 })],
  });
  return { provider, recorder };
}

module.exports = { RecordingExporter, makeExporter, makeProvider };
