/**
 * Runtime configuration, read at start-up from `config.json` next to index.html, so one build serves every
 * deployment (the local runner and the faasd image write their own). Everything is optional: without a
 * Faro collector URL no telemetry is loaded or sent.
 */
export interface RuntimeConfig {
  faroUrl: string | null;
  /** Sent with telemetry as app.environment (e.g. "local", "paper", "live"). */
  environment: string;
  appVersion: string;
}

export const DEFAULT_CONFIG: RuntimeConfig = { faroUrl: null, environment: 'local', appVersion: '0.1.0' };

/** Reads the fields we know, ignoring junk: a broken config must never stop the dashboard. */
export function parseConfig(raw: unknown): RuntimeConfig {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const faro = (o.faro && typeof o.faro === 'object' ? o.faro : {}) as Record<string, unknown>;
  const url = typeof faro.url === 'string' && /^https?:\/\//.test(faro.url) ? faro.url : null;
  return {
    faroUrl: url,
    environment:
      typeof o.environment === 'string' && o.environment ? o.environment : DEFAULT_CONFIG.environment,
    appVersion: typeof o.version === 'string' && o.version ? o.version : DEFAULT_CONFIG.appVersion,
  };
}

export async function loadConfig(url = 'config.json'): Promise<RuntimeConfig> {
  try {
    const res = await fetch(url, { cache: 'no-store' });
    if (!res.ok) return DEFAULT_CONFIG;
    return parseConfig(await res.json());
  } catch {
    return DEFAULT_CONFIG;
  }
}
