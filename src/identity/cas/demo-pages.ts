import type { Locale, Translate } from '../../i18n/index.js';
import type { DemoCasPerson } from './demo-people.js';
import { escapeMarkup as e } from './markup.js';

/** What every page of the demo CAS server is drawn with: the reader's language and the style's CSP nonce. */
export interface PageContext {
  locale: Locale;
  t: Translate;
  nonce: string;
}

/** Self-contained (no external resource, no script): dark text on light backgrounds, readable at 360 px. */
const STYLE = `body{font-family:system-ui,sans-serif;margin:0;background:#f3f4f6;color:#1a1a1a;line-height:1.5}
.banner{margin:0;padding:.75rem 1rem;background:#ffd140;text-align:center;font-weight:700}
main{max-width:32rem;margin:1.5rem auto;padding:1.25rem;background:#fff;border:1px solid #767676;border-radius:.5rem}
h1{font-size:1.4rem;margin:0 0 .75rem}
fieldset{border:0;margin:0 0 1rem;padding:0}legend{font-weight:700;margin-bottom:.5rem}
.person{display:flex;gap:.75rem;align-items:flex-start;padding:.75rem;margin-bottom:.5rem;border:1px solid #767676;border-radius:.5rem}
.person input{margin:.1rem 0 0;width:1.5rem;height:1.5rem;flex:none}
.person label{flex:1;cursor:pointer}
.details{display:block;color:#3d3d3d;font-size:.9rem;overflow-wrap:anywhere}
.alert{padding:.75rem;border-left:4px solid #a4000f;background:#fdecee}
button{width:100%;padding:.75rem;font:inherit;font-weight:700;background:#0b4f8a;color:#fff;border:0;border-radius:.5rem;cursor:pointer}
a{color:#0b4f8a}
:focus-visible{outline:3px solid #0b4f8a;outline-offset:2px}
@media (max-width:30rem){main{margin:0;border-width:1px 0;border-radius:0}}`;

function page(context: PageContext, content: string): string {
  const { locale, t, nonce } = context;
  return `<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(t('demoCas.title'))}</title><style nonce="${nonce}">${STYLE}</style></head>
<body><header><p class="banner">${e(t('demoCas.banner'))}</p></header>
<main>${content}</main></body></html>`;
}

export interface LoginForm {
  service: string;
  /** Echoes the form cookie: a form posted from another site carries no such pair. */
  token: string;
  people: readonly DemoCasPerson[];
  /** Shown above the choice after a post that named nobody. */
  error?: string;
}

/** The demo people to choose from, posted back with the service and the form token. */
export function loginPage(context: PageContext, form: LoginForm): string {
  const { t } = context;
  const people = form.people.map((person, index) => {
    const name = firstValue(person, 'displayName') ?? person.user;
    const affiliations = [person.attributes.eduPersonAffiliation ?? []].flat();
    const details = [t('demoCas.login.username', { user: person.user }), ...(affiliations.length > 0 ? [t('demoCas.login.affiliations', { affiliations: affiliations.join(', ') })] : [])];
    return `<div class="person"><input type="radio" name="user" id="person-${index}" value="${e(person.user)}"${index === 0 ? ' checked' : ''} required>
<label for="person-${index}">${e(name)}${details.map((detail) => `<span class="details">${e(detail)}</span>`).join('')}</label></div>`;
  });
  return page(
    context,
    `<h1>${e(t('demoCas.login.heading'))}</h1>
${form.error ? `<p class="alert" role="alert">${e(form.error)}</p>` : ''}
<p>${e(t('demoCas.login.intro', { origin: new URL(form.service).origin }))}</p>
<form method="post" action="login"><input type="hidden" name="service" value="${e(form.service)}"><input type="hidden" name="token" value="${e(form.token)}">
<fieldset><legend>${e(t('demoCas.login.legend'))}</legend>
${people.join('\n')}
</fieldset><button type="submit">${e(t('demoCas.login.submit'))}</button></form>`,
  );
}

/** `/login` opened without a service: nowhere to send a ticket. */
export function noServicePage(context: PageContext): string {
  return page(context, `<h1>${e(context.t('demoCas.title'))}</h1><p>${e(context.t('demoCas.login.noService'))}</p>`);
}

export function errorPage(context: PageContext, message: string): string {
  return page(context, `<h1>${e(context.t('demoCas.error.heading'))}</h1><p class="alert" role="alert">${e(message)}</p>`);
}

/** `returnTo` only when it is one of the allowed origins' addresses. */
export function logoutPage(context: PageContext, returnTo: string | null): string {
  const { t } = context;
  const back = returnTo === null ? '' : `<p><a href="${e(returnTo)}">${e(t('demoCas.logout.back'))}</a></p>`;
  return page(context, `<h1>${e(t('demoCas.logout.heading'))}</h1><p>${e(t('demoCas.logout.text'))}</p>${back}`);
}

function firstValue(person: DemoCasPerson, attribute: string): string | undefined {
  const values = person.attributes[attribute];
  return typeof values === 'string' ? values : values?.[0];
}
