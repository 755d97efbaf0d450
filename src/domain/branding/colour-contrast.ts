/**
 * WCAG 2.x contrast, and the palette the pages are drawn with. A theme chooses four colours; every
 * other colour a page shows text in is derived here, so one check covers them all.
 */

export type HexColour = `#${string}`;

export const HEX_COLOUR = /^#[0-9a-f]{6}$/i;

export interface ThemeColours {
  primary: string;
  accent: string;
  background: string;
  text: string;
}

export const COLOUR_NAMES = ['primary', 'accent', 'background', 'text'] as const satisfies readonly (keyof ThemeColours)[];

/** WCAG AA: normal text needs 4.5:1; focus rings and borders (non-text, 1.4.11) need 3:1. */
export const TEXT_CONTRAST = 4.5;
export const NON_TEXT_CONTRAST = 3;

type Rgb = readonly [number, number, number];

function rgbOf(hex: string): Rgb {
  if (!HEX_COLOUR.test(hex)) throw new RangeError(`not a #rrggbb colour: ${hex}`);
  return [1, 3, 5].map((start) => Number.parseInt(hex.slice(start, start + 2), 16)) as unknown as Rgb;
}

const hexOf = (rgb: Rgb): string => `#${rgb.map((channel) => Math.round(channel).toString(16).padStart(2, '0')).join('')}`;

/** https://www.w3.org/TR/WCAG22/#dfn-relative-luminance */
export function relativeLuminance(hex: string): number {
  const [r, g, b] = rgbOf(hex).map((channel) => {
    const s = channel / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as unknown as Rgb;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** https://www.w3.org/TR/WCAG22/#dfn-contrast-ratio — from 1 (same) to 21 (black on white). */
export function contrastRatio(one: string, other: string): number {
  const [lighter, darker] = [relativeLuminance(one), relativeLuminance(other)].sort((a, b) => b - a) as [number, number];
  return (lighter + 0.05) / (darker + 0.05);
}

/** `weight` of `one`, the rest of `other`, channel by channel in sRGB (as CSS color-mix in srgb). */
export function mix(one: string, other: string, weight: number): string {
  const [a, b] = [rgbOf(one), rgbOf(other)];
  return hexOf(a.map((channel, index) => channel * weight + b[index]! * (1 - weight)) as unknown as Rgb);
}

/** Black or white, whichever reads better on `background` (at least 4.58:1 for any colour). */
export const readableOn = (background: string): string =>
  contrastRatio('#ffffff', background) >= contrastRatio('#000000', background) ? '#ffffff' : '#000000';

/** The first candidate that reaches `minimum` on `background`, else the theme's text colour. */
function firstReadable(candidates: readonly string[], background: string, fallback: string): string {
  return candidates.find((candidate) => contrastRatio(candidate, background) >= TEXT_CONTRAST) ?? fallback;
}

const canvasOf = (background: string, text: string) => mix(background, text, 0.95);

/** Every colour the stylesheet uses, as CSS custom properties (`--name: #rrggbb`). */
export interface Palette {
  primary: string;
  accent: string;
  background: string;
  text: string;
  /** The page behind the cards: the background, a shade towards the text colour. */
  canvas: string;
  /** Text and icons on the primary colour (header, main buttons). */
  onPrimary: string;
  /** Secondary text: dates, hints. */
  muted: string;
  /** Credits and confirmations, debits and errors, as text on the background. */
  positive: string;
  negative: string;
  /** Borders of fields and cards. */
  border: string;
}

/** Derives the palette; for colours that pass `colourProblems`, every text colour reaches 4.5:1 on where it is drawn. */
export function paletteOf(colours: ThemeColours): Palette {
  const { background, text } = colours;
  const canvas = canvasOf(background, text);
  const textOnBoth = (candidates: readonly string[]) => {
    const choice = firstReadable(candidates, background, text);
    return contrastRatio(choice, canvas) >= TEXT_CONTRAST ? choice : text;
  };
  return {
    ...colours,
    canvas,
    onPrimary: readableOn(colours.primary),
    muted: textOnBoth([mix(text, background, 0.78), mix(text, background, 0.88)]),
    positive: textOnBoth(['#146c2e', '#0b4d1e', '#6fdc8c']),
    negative: textOnBoth(['#a4161a', '#7a1610', '#ff8a80']),
    border: mix(text, background, 0.45),
  };
}

export type ColourProblem =
  | { kind: 'format'; colour: keyof ThemeColours }
  | { kind: 'contrast'; pair: ContrastPair; ratio: number; minimum: number };

/** The pairs a page draws one on the other, and why each matters. */
export type ContrastPair = 'text-background' | 'primary-background' | 'accent-background';

/**
 * Why a set of colours cannot be used: malformed colours, or pairs below WCAG AA. Text and links are
 * drawn both on the cards (background) and on the page around them (canvas): the lower ratio counts.
 * The ratio is floored to two decimals, so 4.499 shows as 4.49 and never as a passing 4.50.
 */
export function colourProblems(colours: Partial<Record<keyof ThemeColours, unknown>>): ColourProblem[] {
  const malformed = COLOUR_NAMES.filter((name) => typeof colours[name] !== 'string' || !HEX_COLOUR.test(colours[name]));
  if (malformed.length > 0) return malformed.map((colour) => ({ kind: 'format', colour }));
  const { primary, accent, background, text } = colours as ThemeColours;
  const canvas = canvasOf(background, text);
  const onBoth = (foreground: string) => Math.min(contrastRatio(foreground, background), contrastRatio(foreground, canvas));
  const pairs: [ContrastPair, number, number][] = [
    ['text-background', onBoth(text), TEXT_CONTRAST],
    ['primary-background', onBoth(primary), TEXT_CONTRAST],
    ['accent-background', onBoth(accent), NON_TEXT_CONTRAST],
  ];
  return pairs
    .map(([pair, ratio, minimum]) => ({ pair, ratio, minimum }))
    .filter(({ ratio, minimum }) => ratio < minimum)
    .map(({ pair, ratio, minimum }) => ({ kind: 'contrast', pair, ratio: Math.floor(ratio * 100) / 100, minimum }));
}
