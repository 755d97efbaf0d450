/** One bar: its value, a short axis label, and the text a pointer or a screen reader gets on it. */
export interface Bar {
  value: number;
  label: string;
  tooltip: string;
}

export interface BarChart {
  /** Prefix of the ids inside the SVG, unique on the page: `aria-labelledby` points at them. */
  id: string;
  title: string;
  /** A summary of what the chart shows (totals), read by screen readers. */
  description: string;
  bars: Bar[];
  /** How a value reads on the vertical axis, e.g. as money. */
  formatValue: (value: number) => string;
  /** `#rrggbb`, the theme's colour. */
  barColour: string;
}

export const CHART_SIZE = { width: 720, height: 300 } as const;
const PLOT = { left: 96, right: 12, top: 16, bottom: 40 } as const;
const PLOT_WIDTH = CHART_SIZE.width - PLOT.left - PLOT.right;
export const PLOT_HEIGHT = CHART_SIZE.height - PLOT.top - PLOT.bottom;
const MAX_AXIS_LABELS = 12;
const GRID_COLOUR = '#d0d4da';

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** The step of the vertical axis: 1, 2 or 5 times a power of ten, so that about four steps reach `max`. */
export function axisStep(max: number): number {
  if (max <= 0) return 1;
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return Math.max(1, nice * power);
}

/** A coordinate, to the hundredth. */
export const svgNumber = (value: number) => String(Math.round(value * 100) / 100);

/** The id and the colour go into attributes as they are: only plain values are accepted. */
export function checkChartAttributes(id: string, colour: string): void {
  if (!/^[a-z][a-z0-9-]*$/.test(id)) throw new Error(`chart id ${id} is not a plain lower-case id`);
  if (!/^#[0-9a-f]{6}$/i.test(colour)) throw new Error(`bar colour ${colour} is not #rrggbb`);
}

/**
 * A bar chart as an SVG document, without scripts or `style` attributes (the CSP forbids them):
 * presentation attributes only. Every text is escaped. With nothing above zero, every bar is flat
 * and the axis shows zero alone.
 */
export function barChartSvg(chart: BarChart): string {
  checkChartAttributes(chart.id, chart.barColour);
  const max = Math.max(0, ...chart.bars.map((bar) => bar.value));
  const step = axisStep(max);
  const top = max > 0 ? Math.ceil(max / step) * step : 0;
  const baseline = PLOT.top + PLOT_HEIGHT;
  const yOf = (value: number) => (top === 0 ? baseline : baseline - (Math.max(0, value) / top) * PLOT_HEIGHT);

  const ticks: number[] = [];
  for (let value = 0; value <= top; value += step) ticks.push(value);
  const grid = ticks.map(
    (value) =>
      `<line class="chart__grid" x1="${PLOT.left}" x2="${CHART_SIZE.width - PLOT.right}" y1="${svgNumber(yOf(value))}" y2="${svgNumber(yOf(value))}" stroke="${GRID_COLOUR}" stroke-width="1"/>` +
      `<text class="chart__value" x="${PLOT.left - 6}" y="${svgNumber(yOf(value))}" text-anchor="end" dominant-baseline="middle" fill="currentColor">${escapeXml(chart.formatValue(value))}</text>`,
  );

  const slot = chart.bars.length > 0 ? PLOT_WIDTH / chart.bars.length : PLOT_WIDTH;
  const barWidth = Math.max(0.5, slot * 0.8);
  const labelEvery = Math.max(1, Math.ceil(chart.bars.length / MAX_AXIS_LABELS));
  const bars = chart.bars.map((bar, index) => {
    const x = PLOT.left + index * slot + (slot - barWidth) / 2;
    const y = yOf(bar.value);
    return `<rect class="chart__bar" x="${svgNumber(x)}" y="${svgNumber(y)}" width="${svgNumber(barWidth)}" height="${svgNumber(baseline - y)}" fill="${chart.barColour}"><title>${escapeXml(bar.tooltip)}</title></rect>`;
  });
  const labels = chart.bars.flatMap((bar, index) =>
    index % labelEvery === 0
      ? [`<text class="chart__label" x="${svgNumber(PLOT.left + (index + 0.5) * slot)}" y="${baseline + 18}" text-anchor="middle" fill="currentColor">${escapeXml(bar.label)}</text>`]
      : [],
  );

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${CHART_SIZE.width} ${CHART_SIZE.height}" width="100%" role="img" aria-labelledby="${chart.id}-title ${chart.id}-desc" font-family="system-ui, sans-serif" font-size="12">`,
    `<title id="${chart.id}-title">${escapeXml(chart.title)}</title>`,
    `<desc id="${chart.id}-desc">${escapeXml(chart.description)}</desc>`,
    `<g class="chart__axis">${grid.join('')}</g>`,
    `<g class="chart__bars">${bars.join('')}</g>`,
    `<line class="chart__baseline" x1="${PLOT.left}" x2="${CHART_SIZE.width - PLOT.right}" y1="${baseline}" y2="${baseline}" stroke="currentColor" stroke-width="1"/>`,
    `<g class="chart__labels">${labels.join('')}</g>`,
    '</svg>',
  ].join('\n');
}
