import { describe, expect, it } from 'vitest';
import { ROUTES } from '../src/app.ts';
import { useGateway } from './harness.ts';

const h = useGateway();

type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        parameters: { name: string; in: string }[];
        responses: Record<string, unknown>;
        requestBody?: unknown;
        security?: unknown[];
      }
    >
  >;
  components: { schemas: Record<string, Record<string, unknown>> };
};

function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refs(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe('GET /api/openapi.json', () => {
  it('documents every route, generated from the zod schemas, with every reference resolvable', async () => {
    const { status, body } = await h.json<Doc>('/api/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    for (const r of ROUTES) {
      const path = `/api${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`;
      expect(body.paths[path]?.[r.method], `${r.method} ${path}`).toBeDefined();
    }
    const operationIds = Object.values(body.paths).flatMap((p) => Object.values(p).map((o) => o.operationId));
    expect(new Set(operationIds).size).toBe(operationIds.length);
    for (const ref of refs(body)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(body.components.schemas[ref.split('/').pop() as string], ref).toBeDefined();
    }

    // The shared schemas appear as named components, with the constraints zod enforces.
    const trade = body.components.schemas.Trade as { required: string[] };
    expect(trade.required).toEqual(
      expect.arrayContaining(['id', 'qty', 'price', 'realizedPnl', 'executedAt']),
    );
    const trades = body.paths['/api/trades'].get;
    expect(trades.parameters.map((p) => p.name)).toEqual(
      expect.arrayContaining(['symbol', 'strategy', 'side', 'from', 'to', 'limit', 'cursor']),
    );
    expect(trades.responses['200']).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/TradePage' } } },
    });
    expect(JSON.stringify(body.components.schemas.PageLimit ?? trades.parameters)).toContain('500');
    const order = body.paths['/api/orders/{id}'].get;
    expect(order.parameters).toContainEqual(expect.objectContaining({ name: 'id', in: 'path' }));
    expect(body.paths['/api/health'].get.security).toEqual([]);
    expect(body.paths['/api/strategies/{name}'].patch.requestBody).toBeDefined();
    expect(body.paths['/api/strategies'].post.requestBody).toEqual({
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/StrategyCreate' } } },
    });
    expect(Object.keys(body.paths['/api/strategies/{name}'].delete.responses)).toContain('409');
    const parity = body.paths['/api/parity'].get;
    expect(parity.parameters.map((p) => p.name)).toEqual(['from', 'to', 'strategy']);
    expect(parity.responses['200']).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ParityReport' } } },
    });
    // An input whose accepted form differs from its answer form is its own component.
    expect(Object.keys(body.components.schemas).some((k) => k.endsWith('_input'))).toBe(true);
  });
});
