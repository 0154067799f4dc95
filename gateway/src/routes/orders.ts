import { getOrder, listOrdersJson, orderHistory, pageBody } from '@weaver/shared/db';
import { cancelOrder, placeManualOrder } from '@weaver/shared/pipeline';
import { notFound } from '@weaver/shared/runtime';
import {
  IdParam,
  ManualOrderInput,
  ManualOrderResult,
  Order,
  OrderDetail,
  OrderPage,
  OrdersQuery,
} from '@weaver/shared/schemas';
import { pipelineContext, withFieldNames } from '../pipeline.ts';
import { defineRoute, rawJson } from '../route.ts';
import { invalidateAccount } from './account.ts';

export const orderRoutes = [
  defineRoute({
    method: 'get',
    path: '/orders',
    summary:
      'Orders, newest first; filter by status (or open / closed), symbol, strategy, side and date; keyset pages',
    tag: 'trading',
    query: OrdersQuery,
    response: OrderPage,
    handler: async ({ query }, { deps }) => rawJson(pageBody(await listOrdersJson(deps.sql(), query))),
  }),
  defineRoute({
    method: 'get',
    path: '/orders/:id',
    summary: 'One order with its status history',
    tag: 'trading',
    params: IdParam,
    response: OrderDetail,
    handler: async ({ params }, { deps }) => {
      const sql = deps.sql();
      const order = await getOrder(sql, params.id);
      if (!order) throw notFound(`order ${params.id}`, 'id');
      return { ...order, history: await orderHistory(sql, order.id) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/orders',
    summary:
      'Place a manual order through the same risk checks as a strategy (422 when a limit refuses it); idempotent per clientOrderId',
    tag: 'trading',
    body: ManualOrderInput,
    response: ManualOrderResult,
    status: 201,
    handler: async ({ body }, { deps, c }) => {
      const r = await withFieldNames(
        (f) => f.replace(/^order\./, ''),
        () => placeManualOrder(pipelineContext(deps, c), body),
      );
      invalidateAccount(deps);
      return { outcome: r.outcome, order: r.order, reason: r.reason ?? null };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/orders/:id/cancel',
    summary: 'Cancel an open order at its exchange (409 when it is already final)',
    tag: 'trading',
    params: IdParam,
    response: Order,
    handler: async ({ params }, { deps, c }) => {
      const order = await withFieldNames(
        (f) => (f === 'orderId' ? 'id' : f),
        () => cancelOrder(pipelineContext(deps, c), params.id),
      );
      invalidateAccount(deps);
      return order;
    },
  }),
];
