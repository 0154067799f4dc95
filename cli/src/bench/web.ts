/**
 * Web bundle size: gzipped bytes of the JavaScript a browser must fetch before the dashboard's first paint —
 * the entry chunk and everything it imports statically (modulepreloads). Lazy chunks (charts, Faro, the
 * non-landing pages) are left out: they load after first paint, on demand. Goal: < 250 KB.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
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
  log('building web/dist (vite build)…');
  const r = spawnSync('npm', ['run', 'build', '-w', 'web'], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`web build failed:\n${r.stdout}\n${r.stderr}`);
}

const web: Benchmark = {
  name: 'web',
  async run({ quick, log }: BenchContext): Promise<Record<string, number>> {
    // --quick reuses an existing build; a full run always measures the current sources.
    if (!quick || !existsSync(manifestPath)) build(log);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    const files = firstLoadFiles(manifest);
    const kb = gzipKb(files.map((f) => join(distDir, f)));
    log(`first load: ${files.join(', ')} → ${kb.toFixed(1)} kB gzipped`);
    return { web_first_load_js_gzip_kb: Math.round(kb * 10) / 10 };
  },
};

export default web;
