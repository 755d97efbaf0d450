import { checkChartAttributes, escapeXml, svgNumber } from './bar-chart.js';

/** One part of a whole: its name and figures written beside its bar, so colour never tells parts apart. */
export interface SharePart {
  label: string;
  /** Whole percent of the whole, 0 to 100. */
  percent: number;
  /** The figures as they read, e.g. "78 % · 34,50 units". */
  valueText: string;
}

export interface ShareChart {
  /** Prefix of the ids inside the SVG, unique on the page: `aria-labelledby` points at them. */
  id: string;
  title: string;
  /** What the chart shows in words, read by screen readers. */
  description: string;
  parts: SharePart[];
  /** `#rrggbb`, the theme's colour. */
  barColour: string;
}

/** Narrow on purpose: drawn about as wide as a phone's card (300 px at 360 px), its text reads at 14 px there. */
export const SHARE_CHART_WIDTH = 300;
const ROW_HEIGHT = 42;
const TEXT_BASELINE = 15;
const BAR = { top: 22, height: 12 } as const;

/**
 * One horizontal bar per part, its length its share of the whole, on a faint track of the whole's
 * length; the part's name above it on the left, its figures on the right. An SVG document without
 * scripts or `style` attributes (the CSP forbids them): presentation attributes only, every text
 * escaped; the track and the text take the page's text colour (`currentColor`).
 */
export function shareChartSvg(chart: ShareChart): string {
  checkChartAttributes(chart.id, chart.barColour);
  const height = Math.max(1, chart.parts.length) * ROW_HEIGHT;
  const rows = chart.parts.map((part, index) => {
    const top = index * ROW_HEIGHT;
    const width = (Math.min(100, Math.max(0, part.percent)) / 100) * SHARE_CHART_WIDTH;
    return [
      `<g class="chart__part">`,
      `<text class="chart__label" x="0" y="${top + TEXT_BASELINE}" fill="currentColor">${escapeXml(part.label)}</text>`,
      `<text class="chart__value" x="${SHARE_CHART_WIDTH}" y="${top + TEXT_BASELINE}" text-anchor="end" fill="currentColor">${escapeXml(part.valueText)}</text>`,
      `<rect class="chart__track" x="0" y="${top + BAR.top}" width="${SHARE_CHART_WIDTH}" height="${BAR.height}" rx="3" fill="currentColor" fill-opacity="0.12"/>`,
      `<rect class="chart__bar" x="0" y="${top + BAR.top}" width="${svgNumber(width)}" height="${BAR.height}" rx="3" fill="${chart.barColour}"><title>${escapeXml(`${part.label}: ${part.valueText}`)}</title></rect>`,
      `</g>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart chart--share" viewBox="0 0 ${SHARE_CHART_WIDTH} ${height}" width="100%" role="img" aria-labelledby="${chart.id}-title ${chart.id}-desc" font-family="system-ui, sans-serif" font-size="14">`,
    `<title id="${chart.id}-title">${escapeXml(chart.title)}</title>`,
    `<desc id="${chart.id}-desc">${escapeXml(chart.description)}</desc>`,
    ...rows,
    '</svg>',
  ].join('\n');
}
