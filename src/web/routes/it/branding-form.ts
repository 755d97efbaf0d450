import { MAX_MESSAGE_LENGTH, MAX_ORGANISATION_NAME_LENGTH, MESSAGE_NAMES, normaliseMessage, normaliseOrganisationName, type BrandingProblem, type BrandingSettings, type ThemeMessages } from '../../../domain/branding/branding.js';
import { COLOUR_NAMES, type ThemeColours } from '../../../domain/branding/colour-contrast.js';
import { SUPPORTED_LOCALES, type Locale, type Translate } from '../../../i18n/index.js';

/** The edit form's text fields as typed (colours unchecked), and the version it started from. */
export interface BrandingForm {
  /** The version whose logo and favicon are kept unless replaced; '' for a theme folder as it ships. */
  base: string;
  theme: string;
  organisationName: string;
  colours: ThemeColours;
  messages: ThemeMessages;
  logoReset: boolean;
  faviconReset: boolean;
}

export const messageField = (locale: Locale, name: string) => `message-${locale}-${name}`;

/** `folderName`: the theme folder's name, shown for a version that did not choose one. */
export function formOf(settings: BrandingSettings, base: number | null, folderName: string): BrandingForm {
  return { base: base === null ? '' : String(base), theme: settings.theme, organisationName: settings.organisationName ?? folderName, colours: { ...settings.colours }, messages: structuredClone(settings.messages), logoReset: false, faviconReset: false };
}

/** Where a colour's picker is sent from; the colour's own name is its typed #rrggbb field. */
export const pickerField = (colour: string) => `${colour}-picker`;

/**
 * The form as sent; a missing or repeated field reads as '' (and is then refused where it matters).
 * A colour is its typed field when anything is typed there, else its picker: the page's script keeps
 * both equal, and without it what is typed wins, as it is what the person reads back.
 */
export function readForm(body: Record<string, unknown>): BrandingForm {
  const text = (name: string) => (typeof body[name] === 'string' ? body[name] : '');
  return {
    base: text('base'),
    theme: text('theme'),
    organisationName: normaliseOrganisationName(text('organisationName')),
    colours: Object.fromEntries(COLOUR_NAMES.map((name) => [name, text(name).trim() || text(pickerField(name)).trim()])) as unknown as ThemeColours,
    messages: Object.fromEntries(
      SUPPORTED_LOCALES.map((locale) => [locale, Object.fromEntries(MESSAGE_NAMES.map((name) => [name, normaliseMessage(text(messageField(locale, name)))]))]),
    ) as ThemeMessages,
    logoReset: body.logoReset === '1',
    faviconReset: body.faviconReset === '1',
  };
}

/** A contrast problem is shown at the colour drawn on the background. */
const FIELD_OF_PAIR = { 'text-background': 'text', 'primary-background': 'primary', 'accent-background': 'accent' } as const;

/** Each problem as a sentence in the reader's language, at its field (the field's name is the key). */
export function problemMessages(problems: BrandingProblem[], form: BrandingForm, t: Translate, locale: Locale): Record<string, string> {
  const numbers = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
  const errors: Record<string, string> = {};
  for (const problem of problems) {
    if (problem.kind === 'format') {
      const value = form.colours[problem.colour];
      errors[problem.colour] = value === '' ? t('branding.errors.colourMissing') : t('branding.errors.colourFormat', { value: value.slice(0, 40) });
    } else if (problem.kind === 'contrast') {
      const field = FIELD_OF_PAIR[problem.pair];
      errors[field] = t(`branding.errors.contrast.${field}`, {
        foreground: form.colours[field],
        background: form.colours.background,
        ratio: numbers.format(problem.ratio),
        minimum: numbers.format(problem.minimum),
      });
    } else if (problem.kind === 'organisationName') {
      errors.organisationName = t(`branding.errors.organisationName.${problem.code}`, { max: MAX_ORGANISATION_NAME_LENGTH });
    } else {
      errors[messageField(problem.locale, problem.message)] = t(`branding.errors.message.${problem.code}`, { max: MAX_MESSAGE_LENGTH });
    }
  }
  return errors;
}
