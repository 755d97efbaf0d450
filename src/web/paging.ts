import { HttpError } from './http-error.js';

/** A `?page=` parameter: absent is 1; anything but a positive whole number is a 400. */
export function parsePage(value: unknown): number {
  if (value === undefined) return 1;
  if (typeof value !== 'string' || !/^[1-9]\d{0,5}$/.test(value)) throw new HttpError(400, 'badRequest', 'bad page number');
  return Number(value);
}

/** Links to the page before and after, keeping the other query parameters (filters). */
export function pageLinks(path: string, query: Record<string, string>, page: number, pageCount: number) {
  const href = (target: number) => `${path}?${new URLSearchParams({ ...query, page: String(target) }).toString()}`;
  return { page, pageCount, previous: page > 1 ? href(page - 1) : null, next: page < pageCount ? href(page + 1) : null };
}
