import path from 'node:path';
import express from 'express';

/**
 * The yardstick: a bare Express 5 app rendering one EJS page with the view cache on, as production
 * does, with nothing else (no session, database, security headers, i18n or theme). Its page has
 * about BASELINE_BYTES bytes (the portal's account page, measured in the same run): a table of rows
 * like the account history, each escaped by EJS.
 */
const port = Number(process.env.PORT);
const targetBytes = Number(process.env.BASELINE_BYTES);
if (!Number.isInteger(port) || !Number.isInteger(targetBytes) || targetBytes <= 0) {
  console.error('PORT and BASELINE_BYTES must be whole numbers');
  process.exit(1);
}

const row = (index: number) => ({
  at: new Date(Date.UTC(2026, 5, 1) + index * 3_600_000),
  label: index % 4 === 0 ? 'Top-up' : 'Print',
  details: `${1 + (index % 12)} pages · Reference ps-01:job-${4711 + index}`,
  amount: index % 4 === 0 ? 20 : -0.05 * (1 + (index % 12)),
  balanceAfter: 12.5 + index / 7,
});

const app = express();
app.set('views', path.join(import.meta.dirname));
app.set('view engine', 'ejs');
app.set('view cache', true);

const render = (rows: number) =>
  new Promise<string>((resolve, reject) =>
    app.render('page', { title: 'My account', balance: '12.50 units', rows: Array.from({ length: rows }, (_, index) => row(index)) }, (error, html) =>
      error ? reject(error) : resolve(html),
    ),
  );

// As many rows as bring the page to the size asked for, from the size of the page without rows and of one row.
const empty = Buffer.byteLength(await render(0));
const perRow = Buffer.byteLength(await render(1)) - empty;
const locals = {
  title: 'My account',
  balance: '12.50 units',
  rows: Array.from({ length: Math.max(0, Math.round((targetBytes - empty) / perRow)) }, (_, index) => row(index)),
};

app.get('/', (_request, response) => response.render('page', locals));
app.listen(port, '127.0.0.1');
process.once('SIGTERM', () => process.exit(0));
