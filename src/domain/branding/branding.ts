import { z } from 'zod';
import { SUPPORTED_LOCALES, type Locale } from '../shared/locale.js';
import { colourProblems, HEX_COLOUR, type ColourProblem, type ThemeColours } from './colour-contrast.js';

/** A theme folder's name is also its URL segment: short, lowercase, no dots. */
export const THEME_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** The organisation's own words, per language: where each shows is in the README's theme contract. */
export const MESSAGE_NAMES = ['welcome', 'topUpIntro', 'confirmation', 'contact'] as const;
export type MessageName = (typeof MESSAGE_NAMES)[number];
export type ThemeMessages = Record<Locale, Record<MessageName, string>>;

/** As long as a theme folder's name may be; the header wraps it under the logo on a phone. */
export const MAX_ORGANISATION_NAME_LENGTH = 100;

/** A few sentences; longer text belongs in the terms of sale. */
export const MAX_MESSAGE_LENGTH = 600;

const hasControlCharacter = (text: string) =>
  [...text].some((character) => {
    const code = character.codePointAt(0)!;
    return (code < 0x20 && character !== '\n') || code === 0x7f;
  });

/** A line break is allowed; other control characters are not (they hide text from reviewers). */
const messageText = z
  .string()
  .max(MAX_MESSAGE_LENGTH)
  .refine((text) => !hasControlCharacter(text), 'must not contain control characters');

const messagesOfLocale = z.strictObject(Object.fromEntries(MESSAGE_NAMES.map((name) => [name, messageText])) as Record<MessageName, typeof messageText>);
export const themeMessagesSchema = z.strictObject(
  Object.fromEntries(SUPPORTED_LOCALES.map((locale) => [locale, messagesOfLocale])) as Record<Locale, typeof messagesOfLocale>,
);

export const themeColoursSchema = z.strictObject({
  primary: z.string().regex(HEX_COLOUR),
  accent: z.string().regex(HEX_COLOUR),
  background: z.string().regex(HEX_COLOUR),
  text: z.string().regex(HEX_COLOUR),
});

/** What IT chooses on top of a theme folder: one immutable version of the portal's look. */
export interface BrandingSettings {
  /** The theme folder (themes/<name>). */
  theme: string;
  /** The name beside the logo; null (versions saved before it could be chosen) shows the theme folder's. */
  organisationName: string | null;
  colours: ThemeColours;
  messages: ThemeMessages;
  /** An uploaded image's id, or null for the theme folder's own file. */
  logoUploadId: string | null;
  faviconUploadId: string | null;
}

export type BrandingProblem =
  | ColourProblem
  | { kind: 'message'; locale: Locale; message: MessageName; code: 'too_long' | 'control_characters' }
  | { kind: 'organisationName'; code: 'missing' | 'too_long' | 'invisible_characters' };

/** Colours are written lowercase so that two equal versions compare equal. */
export const normaliseColours = (colours: ThemeColours): ThemeColours =>
  Object.fromEntries(Object.entries(colours).map(([name, value]) => [name, value.toLowerCase()])) as unknown as ThemeColours;

/** A name is one line: blanks around it trimmed, runs of blanks made one space. */
export const normaliseOrganisationName = (text: string): string => text.replace(/[ \t\r\n]+/g, ' ').trim();

/** Messages are kept as typed, minus surrounding blanks and Windows line ends. */
export const normaliseMessage = (text: string): string => text.replace(/\r\n?/g, '\n').trim();

/**
 * Characters a name shown on every page and on receipts must not hold: format characters (bidi
 * overrides such as U+202E that reorder what follows, zero-width spaces that make a blank name look
 * filled), C1 controls and line or paragraph separators. C0 controls never get this far: the portal
 * refuses them in every request.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

function organisationNameProblem(name: string | null): BrandingProblem | null {
  if (name === null) return null;
  if (name === '') return { kind: 'organisationName', code: 'missing' };
  if (INVISIBLE.test(name)) return { kind: 'organisationName', code: 'invisible_characters' };
  return name.length > MAX_ORGANISATION_NAME_LENGTH ? { kind: 'organisationName', code: 'too_long' } : null;
}

export function brandingProblems(settings: Pick<BrandingSettings, 'organisationName' | 'colours' | 'messages'>): BrandingProblem[] {
  const nameProblem = organisationNameProblem(settings.organisationName);
  const problems: BrandingProblem[] = [...(nameProblem ? [nameProblem] : []), ...colourProblems(settings.colours)];
  for (const locale of SUPPORTED_LOCALES) {
    for (const message of MESSAGE_NAMES) {
      const text = settings.messages[locale][message];
      if (text.length > MAX_MESSAGE_LENGTH) problems.push({ kind: 'message', locale, message, code: 'too_long' });
      else if (!messageText.safeParse(text).success) problems.push({ kind: 'message', locale, message, code: 'control_characters' });
    }
  }
  return problems;
}
