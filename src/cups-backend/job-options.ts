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

/** Values that ask for grey: IPP's `print-color-mode` and the PPD options drivers name (ColorModel, ColorMode…). */
const MONO_VALUES = /^(monochrome|process-monochrome|bi-level|mono|gray|grey|grayscale|greyscale|kgray|black|blackwhite|bw)$/i;
const COLOUR_OPTION = /colou?r/i;
const DUPLEX_SIDES = new Set(['two-sided-long-edge', 'two-sided-short-edge']);
const DUPLEX_VALUES = /^duplex(no)?tumble$/i;

/**
 * Colour when the printer prints colour and no option asks for grey (a job the printer may print in
 * colour is charged as colour); duplex when `sides` or the PPD's Duplex asks for two sides.
 */
export function printModeOf(options: Map<string, string>, printerHasColour: boolean): JobPrintMode {
  const asksForMono = [...options].some(([name, value]) => (name === 'print-color-mode' || name === 'output-mode' || COLOUR_OPTION.test(name)) && MONO_VALUES.test(value));
  const duplex = DUPLEX_SIDES.has(options.get('sides') ?? '') || DUPLEX_VALUES.test(options.get('duplex') ?? '');
  return { colour: printerHasColour && !asksForMono, duplex };
}
