/**
 * Web bundle size, `web_first_load_js_gzip_kb`: the gzipped bytes of every JavaScript file a browser
 * actually fetches from opening the dashboard, through the login, until the landing page (Overview) is
 * usable — its account figures, positions, activity and calendar shown and its equity chart drawn (the
 * chart library's chunk included: the Overview loads it at once). Measured in Debian's Chromium
 * (playwright-core) against the real product (`npm start` on a private database and NATS stream), with
 * React's production build. Goal: < 250 KB.
 *
 * Also logged: the entry chunk and its static imports alone, from Vite's manifest (what the first paint
 * of the login screen needs).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { connect } from '@weaver/shared/db';
import type { EquityHistory } from '@weaver/shared/schemas';
import { launch, settled, watchErrors } from '../../../web/e2e/browser.ts';
import { startProduct } from '../../../web/e2e/product.ts';
import type { BenchContext, Benchmark } from '../commands/bench.ts';

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
}
type Manifest = Record<string, ManifestChunk>;

const repoRoot = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const webDir = join(repoRoot, 'web');
const distDir = join(webDir, 'dist');
const manifestPath = join(distDir, '.vite', 'manifest.json');

/** Files of the entry chunks and their static import closure, in load order, each once. */
export function firstLoadFiles(manifest: Manifest): string[] {
  const seen = new Set<string>();
  const files: string[] = [];
  const visit = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    const chunk = manifest[key];
    if (!chunk) throw new Error(`web manifest names a missing chunk: ${key}`);
    if (chunk.file.endsWith('.js')) files.push(chunk.file);
    for (const imp of chunk.imports ?? []) visit(imp);
  };
  const entries = Object.keys(manifest).filter((k) => manifest[k].isEntry);
  if (entries.length === 0) throw new Error('web manifest has no entry chunk');
  for (const e of entries) visit(e);
  return files;
}

export function gzipKb(paths: string[]): number {
  let bytes = 0;
  for (const p of paths) bytes += gzipSync(readFileSync(p), { level: 9 }).length;
  return bytes / 1000;
}

function build(log: (line: string) => void): void {
  log('building web/dist (vite build, NODE_ENV=production)…');
  // NODE_ENV=test or development would make Vite ship React's development build.
  const r = spawnSync('npm', ['run', 'build', '-w', 'web'], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (r.status !== 0) throw new Error(`web build failed:\n${r.stdout}\n${r.stderr}`);
}

/** React's development JSX runtime: present in a development build only. */
export const isDevelopmentBuild = (js: string): boolean => /\bjsxDEV\b/.test(js);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The JS files (path → bytes as served) the browser fetched until the Overview was usable. */
async function overviewFirstLoad(log: (line: string) => void): Promise<Map<string, Buffer>> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set');
  // An empty database of its own: the runner migrates it and seeds the demo, as on a first `npm start`.
  const name = `weaver_bench_web_${randomBytes(3).toString('hex')}`;
  const admin = connect(base, { max: 1 });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const database = {
    url: url.toString(),
    async drop() {
      const a = connect(base, { max: 1 });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await a.end();
    },
  };
  log('starting the product (npm start) and Chromium…');
  const [product, browser] = await Promise.all([startProduct({ database, nats: false }), launch()]);
  try {
    // A running bot has an equity curve: two account reads a few demo minutes apart give it its
    // points, so the Overview draws the chart as it would for any user.
    for (let i = 0; ; i++) {
      await product.api('/api/account');
      const eq = await product.api<EquityHistory>('/api/account/equity?width=600');
      if (eq.points.length >= 2) break;
      if (i >= 60) throw new Error('the demo recorded no equity curve within a minute');
      await sleep(1000);
    }
    const context = await browser.newContext({ viewport: { width: 1366, height: 850 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    const origin = new URL(product.url).origin;
    const scripts = new Map<string, Promise<Buffer>>();
    page.on('response', (r) => {
      const url = new URL(r.url());
      if (url.origin === origin && url.pathname.endsWith('.js') && !scripts.has(url.pathname))
        scripts.set(url.pathname, r.body());
    });
    await page.goto(`${product.url}/`);
    await page.getByLabel('API token').fill(product.token);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    // Usable: nothing left loading, the equity chart drawn.
    await settled(page);
    await page.locator('.chart canvas').first().waitFor({ timeout: 30_000 });
    await sleep(500);
    if (errors.length) throw new Error(`the Overview reported errors: ${errors.join('; ')}`);
    const files = new Map<string, Buffer>();
    for (const [path, body] of scripts) files.set(path, await body);
    await context.close();
    return files;
  } finally {
    await browser.close().catch(() => {});
    await product.stop();
  }
}

const web: Benchmark = {
  name: 'web',
  async run({ quick, log }: BenchContext): Promise<Record<string, number>> {
    // --quick reuses an existing build; a full run always measures the current sources.
    if (!quick || !existsSync(manifestPath)) build(log);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    const entry = firstLoadFiles(manifest);
    log(
      `entry chunks alone (login screen): ${gzipKb(entry.map((f) => join(distDir, f))).toFixed(1)} kB gzipped`,
    );

    const loaded = await overviewFirstLoad(log);
    let bytes = 0;
    for (const [path, body] of loaded) {
      if (isDevelopmentBuild(body.toString('utf8')))
        throw new Error(`${path} is React's development build: rebuild with NODE_ENV=production`);
      const gz = gzipSync(body, { level: 9 }).length;
      bytes += gz;
      log(`  ${path}  ${(gz / 1000).toFixed(1)} kB`);
    }
    if (![...loaded.keys()].some((p) => /TimeChart/.test(p)))
      throw new Error('the Overview drew its chart without loading the chart chunk: the measure is wrong');
    const kb = bytes / 1000;
    log(`Overview usable after login: ${loaded.size} JS files → ${kb.toFixed(1)} kB gzipped`);
    return { web_first_load_js_gzip_kb: Math.round(kb * 10) / 10 };
  },
};

export default web;
