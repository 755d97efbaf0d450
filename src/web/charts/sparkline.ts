import { checkChartAttributes, escapeXml, svgNumber } from './bar-chart.js';

export interface Sparkline {
  /** Prefix of the ids inside the SVG, unique on the page: `aria-labelledby` points at them. */
  id: string;
  title: string;
  /** The totals in words, read by screen readers (the figures beside the line say them to everyone). */
  description: string;
  /** One value a day, oldest first. */
  values: readonly number[];
  /** `#rrggbb`, the theme's colour. */
  colour: string;
}

export const SPARKLINE_SIZE = { width: 240, height: 48 } as const;
const PADDING = 3;

/**
 * A trend at a glance: the days' values as a line over a light area, no axis, drawn to the highest
 * day (a flat line at the bottom when nothing happened). Inline SVG with presentation attributes only
 * (the CSP forbids `style`); every text is escaped.
 */
export function sparklineSvg({ id, title, description, values, colour }: Sparkline): string {
  checkChartAttributes(id, colour);
  if (values.length === 0) throw new Error('a sparkline needs at least one value');
  const { width, height } = SPARKLINE_SIZE;
  const max = Math.max(0, ...values);
  const step = values.length > 1 ? (width - 2 * PADDING) / (values.length - 1) : 0;
  const bottom = height - PADDING;
  const y = (value: number) => (max > 0 ? bottom - (Math.max(0, value) / max) * (height - 2 * PADDING) : bottom);
  const points = values.map((value, index) => `${svgNumber(PADDING + index * step)},${svgNumber(y(value))}`).join(' ');
  const lastX = svgNumber(PADDING + (values.length - 1) * step);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${id}-title ${id}-desc">`,
    `<title id="${id}-title">${escapeXml(title)}</title>`,
    `<desc id="${id}-desc">${escapeXml(description)}</desc>`,
    `<polygon points="${svgNumber(PADDING)},${bottom} ${points} ${lastX},${bottom}" fill="${colour}" fill-opacity="0.15"/>`,
    `<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>`,
    '</svg>',
  ].join('');
}
