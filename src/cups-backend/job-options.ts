import type { JobPrintMode } from './pricing.js';

/**
 * The job's options as CUPS passes them (argv[5]): `name=value` and bare `name` (or `noname`)
 * separated by spaces; a value may be quoted with ' or " and a character escaped with \.
 */
export function parseJobOptions(text: string): Map<string, string> {
  const options = new Map<string, string>();
  let index = 0;
  const readWord = (stopAt: string) => {
    let word = '';
    let quote: string | null = null;
    while (index < text.length && (quote !== null || !stopAt.includes(text[index] as string))) {
      const char = text[index] as string;
      index += 1;
      if (char === '\\' && index < text.length) {
        word += text[index];
        index += 1;
      } else if (quote === null && (char === '"' || char === "'")) {
        quote = char;
      } else if (char === quote) {
        quote = null;
      } else {
        word += char;
      }
    }
    return word;
  };
  while (index < text.length) {
    if (/\s/.test(text[index] as string)) {
      index += 1;
      continue;
    }
    const name = readWord(' \t\n=');
    if (text[index] === '=') {
      index += 1;
      options.set(name.toLowerCase(), readWord(' \t\n'));
    } else if (name !== '') {
      options.set(name.toLowerCase(), 'true');
    }
  }
  return options;
}

/**
 * Only the options printing systems read decide: IPP's `print-color-mode` and `output-mode`, the PPD
 * options drivers name (ColorModel, ColorMode), IPP's `sides` and the PPD's Duplex and JCLDuplex. A
 * made-up name changes nothing on paper, so it changes nothing in the price.
 */
const COLOUR_OPTIONS = ['print-color-mode', 'output-mode', 'colormodel', 'colormode'];
const SIDES_OPTIONS = ['sides', 'duplex', 'jclduplex'];
const MONO_VALUES = /^(monochrome|process-monochrome|auto-monochrome|bi-level|mono|gray|grey|grayscale|greyscale|kgray|black|blackwhite|bw)$/i;
const DUPLEX_VALUES = /^(two-sided-long-edge|two-sided-short-edge|duplexnotumble|duplextumble)$/i;

/** True when at least one of the options is given and every one given matches: when they disagree, the dearer reading wins. */
function allGivenMatch(options: Map<string, string>, names: string[], values: RegExp): boolean {
  const given = names.map((name) => options.get(name)).filter((value) => value !== undefined);
  return given.length > 0 && given.every((value) => values.test(value));
}

/**
 * Colour when the printer prints colour and the colour options do not all ask for grey; two-sided
 * only when the sides options all ask for two sides (one-sided costs more a page). A person never
 * pays less than what the printer may print.
 */
export function printModeOf(options: Map<string, string>, printerHasColour: boolean): JobPrintMode {
  return {
    colour: printerHasColour && !allGivenMatch(options, COLOUR_OPTIONS, MONO_VALUES),
    duplex: allGivenMatch(options, SIDES_OPTIONS, DUPLEX_VALUES),
  };
}
