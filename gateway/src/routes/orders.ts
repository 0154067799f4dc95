import { getOrder, orderHistory } from '@weaver/shared/db';
import { notFound } from '@weaver/shared/runtime';
import { IdParam, OrderDetail, OrderPage, OrdersQuery } from '@weaver/shared/schemas';
import { listOrders } from '../queries/orders.ts';
import { pageText } from '../queries/page.ts';
import { defineRoute, rawJson } from '../route.ts';

export const orderRoutes = [
  defineRoute({
    method: 'get',
    path: '/orders',
    summary:
      'Orders, newest first; filter by status (or open / closed), symbol, strategy, side and date; keyset pages',
    tag: 'trading',
    query: OrdersQuery,
    response: OrderPage,
    handler: async ({ query }, { deps }) => rawJson(pageText(await listOrders(deps.sql(), query))),
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
];
