import { checkDayRange, periodOf } from '../time/day-range.js';
import { normalizeUsername } from '../people/users.js';
import { ORDER_STATUSES, type OrderStatus } from './order-status.js';
import { parseAmount, PricingError, type Cents } from '../pricing/pricing.js';

export const ORDERS_PAGE_SIZE = 50;

/** What the orders list is narrowed to; absent fields do not narrow. `until` is exclusive. */
export interface OrderSearch {
  status?: OrderStatus;
  from?: Date;
  until?: Date;
  /** A username, or the beginning of one. */
  person?: string;
  minCents?: Cents;
  maxCents?: Cents;
}

export const ORDER_FILTER_FIELDS = ['status', 'from', 'to', 'person', 'min', 'max'] as const;
export type OrderFilterField = (typeof ORDER_FILTER_FIELDS)[number];
export type OrderFilterProblem = 'status' | 'day' | 'toBeforeFrom' | 'person' | 'amount' | 'maxBelowMin';

export interface ParsedOrderFilters {
  /** The filters as typed (trimmed), to show them again and keep them in page links; empty ones left out. */
  typed: Partial<Record<OrderFilterField, string>>;
  search: OrderSearch;
  problems: Partial<Record<OrderFilterField, OrderFilterProblem>>;
}

/** The characters usernames are made of; a prefix of one is made of them too. */
const USERNAME_PREFIX = /^[a-z0-9._@+-]{1,100}$/;

/**
 * Reads the orders list's filters from a query string: a status, days `from` and `to` (both
 * included) in the portal's time zone, a username or its beginning, and amounts typed like "12,50".
 * Each bad value is reported against its field; nothing is guessed.
 */
export function parseOrderFilters(query: Record<string, unknown>, timeZone: string): ParsedOrderFilters {
  const typed: ParsedOrderFilters['typed'] = {};
  const problems: ParsedOrderFilters['problems'] = {};
  const search: OrderSearch = {};
  for (const field of ORDER_FILTER_FIELDS) {
    const value = query[field];
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string') {
      problems[field] = problemOf(field);
      continue;
    }
    const text = value.trim();
    if (text !== '') typed[field] = text;
  }

  const { status, from, to, person, min, max } = typed;
  if (status !== undefined) {
    if ((ORDER_STATUSES as readonly string[]).includes(status)) search.status = status as OrderStatus;
    else problems.status = 'status';
  }
  const days = checkDayRange({ from, to }, { from: null, to: null }, null);
  for (const [field, problem] of Object.entries(days.errors)) problems[field as 'from' | 'to'] = problem === 'to_before_from' ? 'toBeforeFrom' : 'day';
  Object.assign(search, periodOf(days.range, timeZone));

  if (person !== undefined) {
    const prefix = normalizeUsername(person);
    if (USERNAME_PREFIX.test(prefix)) search.person = prefix;
    else problems.person = 'person';
  }

  const amount = (field: 'min' | 'max', text: string | undefined) => {
    if (text === undefined) return undefined;
    try {
      return parseAmount(text);
    } catch (error) {
      if (!(error instanceof PricingError)) throw error;
      problems[field] = 'amount';
      return undefined;
    }
  };
  const minCents = amount('min', min);
  const maxCents = amount('max', max);
  if (minCents !== undefined) search.minCents = minCents;
  if (maxCents !== undefined) search.maxCents = maxCents;
  if (minCents !== undefined && maxCents !== undefined && maxCents < minCents) problems.max = 'maxBelowMin';
  return { typed, search, problems };
}

function problemOf(field: OrderFilterField): OrderFilterProblem {
  if (field === 'from' || field === 'to') return 'day';
  if (field === 'min' || field === 'max') return 'amount';
  return field;
}
