/**
 * The web UI at `/`: web/dist when built. When it is missing and web/ has a Vite config, the runner
 * builds it in the background and shows a small status page until the build lands; without a web
 * app at all, that status page (latest trades and positions, read through /api) is the UI.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Logger } from '@weaver/shared/log';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

export class WebUi {
  readonly dist: string;
  building: Promise<boolean> | null = null;
  private child: ReturnType<typeof spawn> | null = null;

  constructor(
    readonly webDir: string,
    private readonly log: Logger,
  ) {
    this.dist = join(webDir, 'dist');
  }

  get built(): boolean {
    return existsSync(join(this.dist, 'index.html'));
  }

  private viteConfig(): string | undefined {
    if (!existsSync(this.webDir)) return undefined;
    return readdirSync(this.webDir).find((f) => /^vite\.config\.(ts|mts|js|mjs)$/.test(f));
  }

  /** Starts `vite build` in web/ when there is an app but no build; resolves whether it succeeded. */
  ensureBuilt(): Promise<boolean> | null {
    if (this.built || this.building) return this.building;
    const config = this.viteConfig();
    if (!config) return null;
    const vite = resolve(this.webDir, '..', 'node_modules', 'vite', 'bin', 'vite.js');
    if (!existsSync(vite)) return null;
    this.log.info({ dir: this.webDir }, 'web/dist is missing: building the web UI (vite build)');
    this.building = new Promise<boolean>((done) => {
      const child = spawn(process.execPath, [vite, 'build', '--logLevel', 'warn'], {
        cwd: this.webDir,
        stdio: ['ignore', 'ignore', 'pipe'],
        // Whatever NODE_ENV the runner has (test, development), the UI it serves is React's production build.
        env: { ...process.env, NODE_ENV: 'production' },
      });
      this.child = child;
      let err = '';
      child.stderr.on('data', (c: Buffer) => {
        err = (err + c.toString()).slice(-4000);
      });
      child.on('error', (e) => {
        this.log.warn({ err: e.message }, 'web UI build could not start; serving the status page');
        done(false);
      });
      child.on('close', (code) => {
        this.child = null;
        if (code === 0 && this.built) this.log.info('web UI built');
        else this.log.warn({ code, err }, 'web UI build failed; serving the status page');
        done(code === 0 && this.built);
      });
    });
    return this.building;
  }

  /** Stops a build still running (shutdown). */
  stop(): void {
    this.child?.kill('SIGTERM');
  }

  /** Answers a GET/HEAD for the UI. */
  serve(path: string, method: string, res: ServerResponse): void {
    if (this.built) {
      const file = this.resolveFile(path);
      // Client-side routes fall back to the app's index.html; a missing asset stays a 404.
      if (file) sendFile(res, file, method);
      else if (!extname(path)) sendFile(res, join(this.dist, 'index.html'), method);
      else res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
      return;
    }
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(method === 'HEAD' ? undefined : STATUS_PAGE(this.building !== null));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
  }

  private resolveFile(path: string): string | undefined {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return undefined;
    }
    const file = normalize(join(this.dist, decoded));
    if (file !== this.dist && !file.startsWith(this.dist + sep)) return undefined;
    try {
      return statSync(file).isFile() ? file : undefined;
    } catch {
      return undefined;
    }
  }
}

function sendFile(res: ServerResponse, file: string, method: string): void {
  const body = readFileSync(file);
  // Vite names assets by content hash: they never change; index.html must be re-read to find new ones.
  const immutable = file.includes(`${sep}assets${sep}`);
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': body.length,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  res.end(method === 'HEAD' ? undefined : body);
}

/** The fallback page: the latest trades and positions through the API, with the token kept in the browser. */
const STATUS_PAGE = (building: boolean): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Weaver</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:60rem;color:#222}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left}th{background:#f5f5f5}.muted{color:#777}</style></head>
<body><h1>Weaver</h1>
<p class="muted">${building ? 'The dashboard is being built; reload in a moment. ' : ''}This page lists the latest trades and positions.</p>
<form id="login"><label>API token <input id="token" type="password" autocomplete="current-password"></label> <button>Show</button></form>
<h2>Positions</h2><table id="positions"><tr><td class="muted">—</td></tr></table>
<h2>Latest trades</h2><table id="trades"><tr><td class="muted">—</td></tr></table>
<script>
const KEY='weaver.apiToken';
const esc=(v)=>String(v??'').replace(/[&<>"]/g,(c)=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
function table(id,rows,cols){const t=document.getElementById(id);
 t.innerHTML=rows.length?'<tr>'+cols.map((c)=>'<th>'+esc(c)+'</th>').join('')+'</tr>'+rows.map((r)=>'<tr>'+cols.map((c)=>'<td>'+esc(r[c])+'</td>').join('')+'</tr>').join(''):'<tr><td class="muted">none yet</td></tr>';}
const items=(b)=>Array.isArray(b)?b:(b&&(b.items||b.data))||[];
async function load(){const token=localStorage.getItem(KEY);if(!token)return;
 const get=(p)=>fetch(p,{headers:{authorization:'Bearer '+token}}).then((r)=>r.ok?r.json():Promise.reject(r.status));
 try{table('positions',items(await get('/api/positions')),['strategy','symbol','qty','avgPrice','realizedPnl']);
  table('trades',items(await get('/api/trades?limit=20')),['executedAt','strategy','symbol','side','qty','price','realizedPnl']);}
 catch(s){if(s===401)localStorage.removeItem(KEY);}}
document.getElementById('login').onsubmit=(e)=>{e.preventDefault();localStorage.setItem(KEY,document.getElementById('token').value);load();};
load();setInterval(load,5000);
</script></body></html>`;
