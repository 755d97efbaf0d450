import { z } from 'zod';
import { SUPPORTED_LOCALES, type Locale } from '../shared/locale.js';
import { colourProblems, HEX_COLOUR, type ColourProblem, type ThemeColours } from './colour-contrast.js';

/** A theme folder's name is also its URL segment: short, lowercase, no dots. */
export const THEME_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** The organisation's own words, per language: where each shows is in the README's theme contract. */
export const MESSAGE_NAMES = ['welcome', 'topUpIntro', 'confirmation', 'contact'] as const;
export type MessageName = (typeof MESSAGE_NAMES)[number];
export type ThemeMessages = Record<Locale, Record<MessageName, string>>;

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
  colours: ThemeColours;
  messages: ThemeMessages;
  /** An uploaded image's id, or null for the theme folder's own file. */
  logoUploadId: string | null;
  faviconUploadId: string | null;
}

export type BrandingProblem =
  | ColourProblem
  | { kind: 'message'; locale: Locale; message: MessageName; code: 'too_long' | 'control_characters' };

/** Colours are written lowercase so that two equal versions compare equal. */
export const normaliseColours = (colours: ThemeColours): ThemeColours =>
  Object.fromEntries(Object.entries(colours).map(([name, value]) => [name, value.toLowerCase()])) as unknown as ThemeColours;

/** Messages are kept as typed, minus surrounding blanks and Windows line ends. */
export const normaliseMessage = (text: string): string => text.replace(/\r\n?/g, '\n').trim();

export function brandingProblems(settings: Pick<BrandingSettings, 'colours' | 'messages'>): BrandingProblem[] {
  const problems: BrandingProblem[] = [...colourProblems(settings.colours)];
  for (const locale of SUPPORTED_LOCALES) {
    for (const message of MESSAGE_NAMES) {
      const text = settings.messages[locale][message];
      if (text.length > MAX_MESSAGE_LENGTH) problems.push({ kind: 'message', locale, message, code: 'too_long' });
      else if (!messageText.safeParse(text).success) problems.push({ kind: 'message', locale, message, code: 'control_characters' });
    }
  }
  return problems;
}
