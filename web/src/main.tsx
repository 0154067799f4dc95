import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';
import './styles.css';
import { loadConfig } from './telemetry/config.ts';
import { startTelemetry } from './telemetry/faro.ts';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// Telemetry starts after first paint and only when configured; the Faro SDK itself is a lazy chunk.
void loadConfig().then(startTelemetry);
