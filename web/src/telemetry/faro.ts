import type { RuntimeConfig } from './config.ts';

/**
 * Grafana Faro: errors, web vitals and traces of the API calls. Loaded only when a collector URL is
 * configured, and only after first paint, so the SDK (and OpenTelemetry, its heaviest part) never weighs on
 * the first load and nothing at all is sent when the URL is unset.
 */
type PushError = (error: Error, context?: Record<string, string>) => void;

let pushError: PushError | null = null;

export async function startTelemetry(config: RuntimeConfig): Promise<boolean> {
  if (!config.faroUrl) return false;
  const { initializeFaro, getWebInstrumentations } = await import('@grafana/faro-web-sdk');
  const faro = initializeFaro({
    url: config.faroUrl,
    app: { name: 'weaver-web', version: config.appVersion, environment: config.environment },
    // Console capture would copy whatever a library logs (possibly request details) to the collector.
    instrumentations: getWebInstrumentations({ captureConsole: false }),
    // The event stream is one request held open for hours: not a span.
    ignoreUrls: [/\/api\/events/],
  });
  pushError = (error, context) => faro.api.pushError(error, context ? { context } : undefined);
  const { TracingInstrumentation } = await import('@grafana/faro-web-tracing');
  // Same-origin /api calls get a traceparent header, so the gateway's spans join the browser's trace.
  faro.instrumentations.add(new TracingInstrumentation());
  return true;
}

/** Reports an error caught by a React error boundary (no-op without telemetry). */
export function reportError(error: Error, context?: Record<string, string>): void {
  pushError?.(error, context);
}
