import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { Request, Response, Router } from 'express';
import { recordAudit } from '../../../services/audit/records.js';
import { loadPriceList } from '../../../services/pricing/records.js';
import { exportedQuotePages, exportedTransactionPages, quoteVatRatesIn } from '../../../services/reports/records.js';
import { dailyTopUps as dailyTopUpsIn } from '../../../services/reports/daily-top-ups.js';
import { dayOf, firstOfMonth } from '../../../domain/time/calendar.js';
import { checkDayRange, MAX_REPORT_DAYS, periodOf, type DayRange } from '../../../domain/time/day-range.js';
import type { DailyTopUps } from '../../../domain/reports/top-ups-per-day.js';
import { csvConventionsFor, EXPORT_COLUMNS, exportRecord, type ExportKind } from '../../../domain/reports/transaction-export.js';
import { isQuoteExportDate, QUOTE_EXPORT_DATES, quoteExportColumns, quoteExportRecord, type QuoteExportColumn, type QuoteExportDate, type QuotePaidWith } from '../../../domain/reports/quote-export.js';
import type { QuoteStatus } from '../../../domain/quotes/quote-status.js';
import { formatMoney } from '../../../i18n/format.js';
import type { Locale, Translate } from '../../../i18n/index.js';
import { barChartSvg } from '../../charts/bar-chart.js';
import { dayLabels } from '../../charts/day-labels.js';
import { HttpError } from '../../http-error.js';
import { renderPage } from '../../render.js';
import type { PresentedTheme } from '../../../services/branding/theme-service.js';
import { registerAuditRoutes } from './audit.js';
import { dayRangeMessages, typedText } from '../../day-range-form.js';
import { vatRateText } from '../desk/quote-form.js';
import type { AdminDependencies } from './dependencies.js';

/** Streams `records` as a CSV download, never cached. */
async function sendCsv(response: Response, fileName: string, delimiter: ';' | ',', records: AsyncGenerator<string[]>): Promise<void> {
  response.set({ 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${fileName}"`, 'Cache-Control': 'no-store' });
  // Excel wants CRLF between records; a line break inside a text (descriptions) is quoted, never a new record.
  try {
    await pipeline(Readable.from(records), stringify({ bom: true, delimiter, record_delimiter: 'windows', quoted_match: /[\r\n]/ }), response);
  } catch (error) {
    // The reader went away mid-download: nothing to answer, nothing went wrong here.
    if ((error as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
  }
}

export function registerReportRoutes(router: Router, deps: AdminDependencies): void {
  const { db, clock, config } = deps;
  const timeZone = config.i18n.timeZone;

  /**
   * The range asked for, the current month up to today by default, and which date of a quote puts it
   * in the range of the quotes' export (`by`: created unless asked; null when it is no choice).
   */
  function requestedRange(request: Request) {
    const today = dayOf(clock.now(), timeZone);
    const { range, errors } = checkDayRange({ from: request.query.from, to: request.query.to }, { from: firstOfMonth(today), to: today }, MAX_REPORT_DAYS);
    const by = request.query.by ?? 'created';
    const form = {
      from: request.query.from === undefined ? (range.from ?? '') : typedText(request.query.from),
      to: request.query.to === undefined ? (range.to ?? '') : typedText(request.query.to),
      by: typedText(by),
    };
    const valid = Object.keys(errors).length === 0 && range.from !== null && range.to !== null && isQuoteExportDate(by);
    return { range: valid ? { from: range.from!, to: range.to! } : null, by: isQuoteExportDate(by) ? by : null, errors, form };
  }

  /** Top-ups paid per day, per currency: `currency` (the price list's, unless asked) is always there. */
  const dailyTopUps = (range: DayRange, currency: string) => dailyTopUpsIn(db.knex, range, timeZone, currency);
  const priceListCurrency = async () => (await loadPriceList(db.knex)).settings.currency;

  function chartOf(series: DailyTopUps, range: DayRange, response: Response) {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    const money = (cents: number) => formatMoney(cents, series.currency, locale);
    const days = dayLabels(locale);
    const id = `chart-${series.currency.toLowerCase()}`;
    const best = series.days.reduce((top, day) => (day.amountCents > top.amountCents ? day : top), series.days[0]!);
    const summary = t('admin.reports.chart.summary', { count: series.count, amount: money(series.amountCents) });
    const svg = barChartSvg({
      id,
      title: t('admin.reports.chart.svgTitle', { from: days.full(range.from), to: days.full(range.to), currency: series.currency }),
      description: series.count > 0 ? `${summary} ${t('admin.reports.chart.best', { day: days.full(best.day), amount: money(best.amountCents) })}` : summary,
      bars: series.days.map((day) => ({
        value: day.amountCents,
        label: days.short(day.day),
        tooltip: t('admin.reports.chart.bar', { day: days.full(day.day), count: day.count, amount: money(day.amountCents) }),
      })),
      formatValue: money,
      barColour: (response.locals.theme as PresentedTheme).palette.primary,
    });
    return { id, svg, days, money };
  }

  async function showReports(response: Response, { form, range, by, errors }: ReturnType<typeof requestedRange>, status = 200) {
    const t = response.locals.t as Translate;
    const charts = range
      ? (await dailyTopUps(range, await priceListCurrency())).map((series) => {
          const { id, svg, days, money } = chartOf(series, range, response);
          const query = new URLSearchParams({ from: range.from, to: range.to, currency: series.currency });
          return {
            id,
            currency: series.currency,
            svg,
            svgHref: `/admin/reports/top-ups.svg?${query.toString()}`,
            days: series.days.map((day) => ({ day: day.day, label: days.full(day.day), count: day.count, amount: money(day.amountCents) })),
            count: series.count,
            amount: money(series.amountCents),
          };
        })
      : [];
    await renderPage(response.status(status), 'admin/reports/index', {
      title: t('admin.reports.title'),
      adminSection: 'reports',
      form,
      errors: { ...dayRangeMessages(errors, t, 'reports'), ...(by === null ? { by: t('admin.reports.errors.quoteDate') } : {}) },
      quoteDates: QUOTE_EXPORT_DATES,
      timeZone,
      maxDays: MAX_REPORT_DAYS,
      charts,
    });
  }

  router.get('/admin/reports', async (request, response) => {
    const requested = requestedRange(request);
    await showReports(response, requested, requested.range ? 200 : 400);
  });

  router.get('/admin/reports/transactions.csv', async (request, response) => {
    const requested = requestedRange(request);
    const { range } = requested;
    if (!range) return showReports(response, requested, 400);
    const t = response.locals.t as Translate;
    // Exporting everyone's transactions is itself traced: who took the figures, for which days.
    await recordAudit(db.knex, { actor: request.user!, action: 'reports.export', target: `${range.from}/${range.to}`, before: null, after: range }, clock.now());

    const { delimiter, decimalSeparator } = csvConventionsFor(response.locals.locale as Locale);
    const format = { decimalSeparator, timeZone, kindLabel: (kind: ExportKind) => t(`admin.reports.kinds.${kind}`) };
    const period = periodOf(range, timeZone);
    async function* records() {
      yield EXPORT_COLUMNS.map((column) => t(`admin.reports.csv.${column}`, { zone: timeZone }));
      for await (const page of exportedTransactionPages(db.knex, period)) for (const row of page) yield exportRecord(row, format);
    }
    await sendCsv(response, `recharge-transactions-${range.from}-${range.to}.csv`, delimiter, records());
  });

  router.get('/admin/reports/quotes.csv', async (request, response) => {
    const requested = requestedRange(request);
    const { range } = requested;
    if (!range || !requested.by) return showReports(response, requested, 400);
    const by: QuoteExportDate = requested.by;
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    await recordAudit(db.knex, { actor: request.user!, action: 'reports.export_quotes', target: `${range.from}/${range.to}`, before: null, after: { ...range, by } }, clock.now());

    const { delimiter, decimalSeparator } = csvConventionsFor(locale);
    const format = {
      decimalSeparator,
      timeZone,
      statusLabel: (status: QuoteStatus) => t(`deskQuotes.status.${status}`),
      paidWithLabel: (paidWith: QuotePaidWith) => t(`admin.reports.quotesCsv.paidWithValues.${paidWith}`),
    };
    // Up to this moment only (included): a quote made while the file is written could bring a VAT rate the header lacks.
    const { from, until } = periodOf(range, timeZone);
    const period = { from, until: new Date(Math.min(until.getTime(), clock.now().getTime() + 1)) };
    const columns = quoteExportColumns(await quoteVatRatesIn(db.knex, period, by));
    const title = (column: QuoteExportColumn) =>
      'rateBasisPoints' in column ? t(`admin.reports.quotesCsv.${column.key}`, { rate: vatRateText(column.rateBasisPoints, locale) }) : t(`admin.reports.quotesCsv.${column.key}`, { zone: timeZone });
    async function* records() {
      yield columns.map(title);
      for await (const page of exportedQuotePages(db.knex, period, by)) for (const quote of page) yield quoteExportRecord(quote, columns, format);
    }
    await sendCsv(response, `recharge-quotes-${by}-${range.from}-${range.to}.csv`, delimiter, records());
  });

  router.get('/admin/reports/top-ups.svg', async (request, response) => {
    const requested = requestedRange(request);
    const { range } = requested;
    if (!range) return showReports(response, requested, 400);
    const currency = request.query.currency;
    if (currency !== undefined && (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency))) throw new HttpError(400, 'badRequest', 'bad currency');
    const wanted = currency ?? (await priceListCurrency());
    const series = (await dailyTopUps(range, wanted)).find((candidate) => candidate.currency === wanted)!;
    response.type('image/svg+xml; charset=utf-8').set('Cache-Control', 'no-store').send(chartOf(series, range, response).svg);
  });

  registerAuditRoutes(router, deps);
}
