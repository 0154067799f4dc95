import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dashboard is served at / by the local runner and the gateway answers at /api on the same origin.
// `vite dev` proxies /api to a running `npm start` (WEAVER_API_ORIGIN, default http://127.0.0.1:8080).
export default defineConfig({
  plugins: [react()],
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The bundle-size benchmark reads the manifest to tell the first-load chunks from the lazy ones.
    manifest: true,
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    proxy: {
      '/api': { target: process.env.WEAVER_API_ORIGIN ?? 'http://127.0.0.1:8080', changeOrigin: false },
    },
  },
});
