import type { Request, Response, Router } from 'express';
import { listOrderDocuments } from '../../../services/documents/records.js';
import { countOrders, findOrder, searchOrders } from '../../../services/checkout/records.js';
import { CheckoutError } from '../../../services/checkout/checkout.js';
import type { Hundredths } from '../../../domain/ledger/ledger.js';
import { createOrderAdministration } from '../../../services/checkout/order-administration.js';
import { ORDERS_PAGE_SIZE, parseOrderFilters, type ParsedOrderFilters } from '../../../domain/checkout/order-search.js';
import { ORDER_STATUSES, type OrderStatus } from '../../../domain/checkout/order-status.js';
import { parseOrderNumber, type Order } from '../../../domain/checkout/orders.js';
import { isRefundPolicy, REFUND_POLICIES, refundableCents, RefundError } from '../../../domain/checkout/refunds.js';
import { formatMoney } from '../../../i18n/format.js';
import type { Locale, Translate } from '../../../i18n/index.js';
import { notFound } from '../../http-error.js';
import { pageLinks, parsePage } from '../../paging.js';
import { renderPage } from '../../render.js';
import { documentUrl } from '../documents.js';
import { freshRefundForm, readRefundForm, type RefundField, type RefundForm } from '../../refund-form.js';
import type { AdminDependencies } from './dependencies.js';

interface OrderPageState {
  form?: RefundForm;
  errors?: Partial<Record<RefundField, string>>;
  /** A form-level problem (refused, PayPal failed), shown as an alert. */
  problem?: string | null;
  notice?: string | null;
}

/** 16 random bytes, base64url: the form's identity, from which its PayPal-Request-Id is derived. */
const LIST_NOTICES = new Set(['policySaved']);
const REFUND_ID = /^[A-Za-z0-9-]{1,64}$/;


export function registerOrderRoutes(router: Router, { db, clock, checkout, config }: AdminDependencies): void {
  const administration = createOrderAdministration({ db, checkout, clock });

  async function showList(request: Request, response: Response, state: { filters: ParsedOrderFilters; policyError?: string | null; notice?: string | null }, status = 200) {
    const t = response.locals.t as Translate;
    const { filters } = state;
    const problems = Object.entries(filters.problems).map(([field, problem]) => [field, t(`admin.orders.filterErrors.${problem}`)]);
    let listing = null;
    if (problems.length === 0) {
      const requested = parsePage(request.query.page);
      const total = await countOrders(db.knex, filters.search);
      const pageCount = Math.max(1, Math.ceil(total / ORDERS_PAGE_SIZE));
      const page = Math.min(requested, pageCount);
      const rows = await searchOrders(db.knex, filters.search, { limit: ORDERS_PAGE_SIZE, offset: (page - 1) * ORDERS_PAGE_SIZE });
      listing = { rows, total, pager: pageLinks('/admin/orders', filters.typed as Record<string, string>, page, pageCount) };
    }
    await renderPage(response.status(status), 'admin/orders/list', {
      title: t('admin.orders.title'),
      adminSection: 'orders',
      statuses: ORDER_STATUSES,
      typed: filters.typed,
      filterErrors: Object.fromEntries(problems),
      listing,
      policies: REFUND_POLICIES,
      policy: await administration.refundPolicy(),
      policyError: state.policyError ?? null,
      notice: state.notice ?? null,
    });
  }

  router.get('/admin/orders', async (request, response) => {
    const t = response.locals.t as Translate;
    const filters = parseOrderFilters(request.query, config.i18n.timeZone);
    const notice = typeof request.query.notice === 'string' && LIST_NOTICES.has(request.query.notice) ? t(`admin.orders.notices.${request.query.notice}`) : null;
    await showList(request, response, { filters, notice }, Object.keys(filters.problems).length > 0 ? 400 : 200);
  });

  router.post('/admin/orders/settings', async (request, response) => {
    const t = response.locals.t as Translate;
    const policy = (request.body as Record<string, unknown> | undefined)?.refundPolicy;
    if (!isRefundPolicy(policy)) {
      return showList(request, response, { filters: parseOrderFilters({}, config.i18n.timeZone), policyError: t('admin.orders.policy.invalid') }, 400);
    }
    await administration.setRefundPolicy(request.user!, policy);
    response.redirect(303, '/admin/orders?notice=policySaved');
  });

  async function orderOf(request: Request): Promise<Order> {
    const id = parseOrderNumber(request.params.number);
    const order = id === null ? undefined : await findOrder(db.knex, { id });
    if (!order) throw notFound();
    return order;
  }

  async function showOrder(response: Response, order: Order, state: OrderPageState, status = 200) {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    const refundable = refundableCents(order);
    await renderPage(response.status(status), 'admin/orders/order', {
      title: t('admin.orders.order.title', { number: order.number }),
      adminSection: 'orders',
      order,
      ...(await administration.orderDetails(order)),
      documents: await listOrderDocuments(db.knex, order.id),
      documentUrl,
      money: (cents: number) => formatMoney(cents, order.currency, locale),
      refundable,
      policy: await administration.refundPolicy(),
      form: state.form ?? freshRefundForm(refundable, locale),
      errors: state.errors ?? {},
      problem: state.problem ?? null,
      notice: state.notice ?? null,
    });
  }

  router.get('/admin/orders/:number', async (request, response) => {
    const order = await orderOf(request);
    await showOrder(response, order, { notice: orderNotice(request, response, order) });
  });

  router.post('/admin/orders/:number/refund', async (request, response) => {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    const order = await orderOf(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const { form, amountCents, errors } = readRefundForm(body, t);
    const money = (cents: number) => formatMoney(cents, order.currency, locale);
    const formatUnits = response.locals.formatUnits as (amount: Hundredths) => string;
    if (Object.keys(errors).length > 0) return showOrder(response, order, { form, errors }, 400);

    let result;
    try {
      result = await administration.refund(request.user!, order, { amountCents, reason: form.reason, nonce: form.nonce });
    } catch (error) {
      if (error instanceof RefundError) {
        if (error.code === 'amount_not_positive') return showOrder(response, order, { form, errors: { amount: t('admin.orders.refund.errors.amountPositive') } }, 400);
        if (error.code === 'amount_exceeds_remaining') {
          return showOrder(response, order, { form, errors: { amount: t('admin.orders.refund.errors.amountExceeds', { amount: money(refundableCents(order)) }) } }, 400);
        }
        if (error.code === 'not_refundable') {
          return showOrder(response, order, { form, problem: t('admin.orders.refund.errors.notRefundable', { status: t(`order.statusName.${order.status}`) }) }, 409);
        }
        if (error.code === 'form_reused') return showOrder(response, order, { form, problem: t('admin.orders.refund.errors.formReused') }, 409);
        return showOrder(response, order, { form, problem: t('admin.orders.refund.errors.unitsSpent', { missing: formatUnits(error.missingUnits) }) }, 409);
      }
      if (error instanceof CheckoutError && error.code === 'refund_refused') {
        return showOrder(response, order, { form, problem: t('admin.orders.refund.errors.refused', { reason: error.message }) }, 502);
      }
      throw error;
    }
    if (result.kind === 'not_refunded' || result.kind === 'unknown') {
      const current = (await findOrder(db.knex, { id: order.id })) as Order;
      return showOrder(response, current, { form, problem: t(`admin.orders.refund.errors.${result.kind === 'unknown' ? 'unknown' : 'notRefunded'}`) }, 502);
    }
    const notice = result.kind === 'already_refunded' ? 'alreadyRefunded' : result.settled ? 'refunded' : 'refundUnsettled';
    response.redirect(303, `/admin/orders/${order.number}?${new URLSearchParams({ notice, refund: result.refundId }).toString()}`);
  });

  router.post('/admin/orders/:number/check', async (request, response) => {
    const t = response.locals.t as Translate;
    const order = await orderOf(request);
    if (!order.paypalOrderId) return showOrder(response, order, { problem: t('admin.orders.check.notSent') }, 409);
    const { reached, after } = await administration.check(request.user!, order);
    if (!reached) return showOrder(response, after, { problem: t('admin.orders.check.unreachable') }, 502);
    const query = new URLSearchParams({ notice: 'checked', was: order.status, wasRefunded: String(order.refundedCents) });
    response.redirect(303, `/admin/orders/${order.number}?${query.toString()}`);
  });
}

/** The notice a redirect asked for: only known notices, with values checked (they come from a URL). */
function orderNotice(request: Request, response: Response, order: Order): string | null {
  const t = response.locals.t as Translate;
  const money = (cents: number) => formatMoney(cents, order.currency, response.locals.locale as Locale);
  const { notice, refund, was, wasRefunded } = request.query;
  if ((notice === 'refunded' || notice === 'refundUnsettled' || notice === 'alreadyRefunded') && typeof refund === 'string' && REFUND_ID.test(refund)) {
    return t(`admin.orders.notices.${notice}`, { refundId: refund });
  }
  if (notice !== 'checked' || !ORDER_STATUSES.includes(was as OrderStatus) || typeof wasRefunded !== 'string' || !/^\d{1,9}$/.test(wasRefunded)) return null;
  const changes = [];
  if (was !== order.status) changes.push(t('admin.orders.check.statusChanged', { from: t(`order.statusName.${String(was)}`), to: t(`order.statusName.${order.status}`) }));
  if (Number(wasRefunded) !== order.refundedCents) changes.push(t('admin.orders.check.refundedChanged', { from: money(Number(wasRefunded)), to: money(order.refundedCents) }));
  return changes.length === 0 ? t('admin.orders.check.unchanged') : `${t('admin.orders.check.changed')} ${changes.join(' ')}`;
}
