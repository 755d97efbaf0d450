/** Which error page to show: a key under `errors.` in the translation catalogs. */
export type ErrorPage = 'badRequest' | 'csrf' | 'forbidden' | 'notFound' | 'tooLarge' | 'tooManyRequests' | 'server' | 'unavailable';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly page: ErrorPage,
    message: string = page,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = () => new HttpError(404, 'notFound');

export const forbidden = () => new HttpError(403, 'forbidden');
