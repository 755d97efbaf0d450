import { randomBytes } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { PaymentStore, StoredOrder } from './store.js';

interface Labels {
  title: string;
  banner: string;
  payTo: (brand: string) => string;
  approve: string;
  cancel: string;
  gone: string;
}

type Language = 'en' | 'fr';

const LABELS: Record<Language, Labels> = {
  en: {
    title: 'PayPal Checkout - Review your payment',
    banner: 'PayPal simulator: no real money is involved.',
    payTo: (brand) => `Pay ${brand}`,
    approve: 'Approve',
    cancel: 'Cancel',
    gone: 'This checkout is unknown or has already ended.',
  },
  fr: {
    title: 'PayPal Checkout - Vérifiez votre paiement',
    banner: 'Simulateur PayPal : aucun argent réel n’est en jeu.',
    payTo: (brand) => `Payer ${brand}`,
    approve: 'Payer',
    cancel: 'Annuler et revenir',
    gone: 'Ce paiement est inconnu ou déjà terminé.',
  },
};

const STYLE = `body{font-family:system-ui,sans-serif;margin:0;background:#f5f7fa;color:#001435}
.banner{background:#ffd140;padding:.5rem 1rem;text-align:center;font-weight:600}
main{max-width:26rem;margin:2rem auto;background:#fff;border-radius:.75rem;padding:1.5rem;box-shadow:0 1px 4px #0002}
.amount{font-size:2rem;font-weight:700;margin:.5rem 0 1.5rem}
button{width:100%;padding:.75rem;border-radius:2rem;font-size:1rem;margin:.25rem 0;cursor:pointer}
.approve{background:#0070e0;color:#fff;border:0}.cancel{background:#fff;color:#0070e0;border:1px solid #0070e0}`;

/** Where the buyer lands after approving: return_url?token=<order id>&PayerID=<payer id>. */
export function approvedReturnUrl(order: StoredOrder): string {
  const url = new URL(order.request.experience.return_url);
  url.searchParams.set('token', order.id);
  url.searchParams.set('PayerID', order.payer?.payerId ?? '');
  return url.toString();
}

/** Where the buyer lands after cancelling: cancel_url?token=<order id>. */
export function cancelledReturnUrl(order: StoredOrder): string {
  const url = new URL(order.request.experience.cancel_url);
  url.searchParams.set('token', order.id);
  return url.toString();
}

/**
 * The buyer's side of PayPal: a self-contained page (no external resources, its own strict CSP)
 * showing what is paid to whom, with "Approve" and "Cancel". `approve` is the same action as the
 * simulator's approve(), so the page and the tests go through one path.
 */
export function approvalPageRouter(store: PaymentStore, approve: (orderId: string) => StoredOrder): Router {
  const router = express.Router();
  router.use('/checkoutnow', express.urlencoded({ extended: false, limit: '4kb' }));

  router.get('/checkoutnow', (request, response) => {
    const order = store.approvableOrder(String(request.query.token ?? ''));
    if (!order) return sendGone(request, response);
    const language = languageOf(order.request.experience.locale);
    const labels = LABELS[language];
    const nonce = randomBytes(16).toString('base64');
    const { brand_name: brand = 'Merchant', locale = 'en-US' } = order.request.experience;
    const { value, currency_code: currency } = order.request.purchaseUnit.amount;
    const amount = new Intl.NumberFormat(locale, { style: 'currency', currency }).format(Number(value));
    const form = (action: 'approve' | 'cancel', label: string) =>
      `<form method="post" action="/checkoutnow/${action}"><input type="hidden" name="token" value="${escapeHtml(order.id)}"><button class="${action}" type="submit">${escapeHtml(label)}</button></form>`;
    setSecurityHeaders(response, nonce, [order.request.experience.return_url, order.request.experience.cancel_url]);
    response.type('html').send(
      page(language, nonce, `<h1>${escapeHtml(labels.payTo(brand))}</h1><p class="amount">${escapeHtml(amount)}</p>${form('approve', labels.approve)}${form('cancel', labels.cancel)}`),
    );
  });

  router.post('/checkoutnow/approve', (request, response) => {
    const order = store.approvableOrder(tokenOf(request));
    if (!order) return sendGone(request, response);
    response.redirect(303, approvedReturnUrl(approve(order.id)));
  });

  router.post('/checkoutnow/cancel', (request, response) => {
    const order = store.approvableOrder(tokenOf(request));
    if (!order) return sendGone(request, response);
    response.redirect(303, cancelledReturnUrl(order));
  });

  return router;
}

function sendGone(request: Request, response: Response): void {
  const language = request.acceptsLanguages('fr', 'en') === 'fr' ? 'fr' : 'en';
  const nonce = randomBytes(16).toString('base64');
  setSecurityHeaders(response, nonce, []);
  response.status(404).type('html').send(page(language, nonce, `<p>${escapeHtml(LABELS[language].gone)}</p>`));
}

function page(language: Language, nonce: string, content: string): string {
  const labels = LABELS[language];
  return `<!doctype html><html lang="${language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(labels.title)}</title><style nonce="${nonce}">${STYLE}</style></head><body><p class="banner">${escapeHtml(labels.banner)}</p><main>${content}</main></body></html>`;
}

/** Browsers check form-action against the redirect that follows the POST, so the merchant's return origins are allowed too. */
function setSecurityHeaders(response: Response, nonce: string, returnUrls: string[]): void {
  const origins = [...new Set(returnUrls.map((url) => new URL(url).origin))];
  response.set({
    'Content-Security-Policy': `default-src 'none'; style-src 'nonce-${nonce}'; form-action 'self'${origins.map((origin) => ` ${origin}`).join('')}; frame-ancestors 'none'; base-uri 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  });
}

function languageOf(locale: string | undefined): Language {
  return locale?.startsWith('fr') ? 'fr' : 'en';
}

function tokenOf(request: Request): string {
  const token = (request.body as Record<string, unknown> | undefined)?.token;
  return typeof token === 'string' ? token : '';
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
