// The top-up page's summary, redone at once as the person chooses, from the figures the server wrote in
// the page (views/pages/topup.ejs). It only shows: the server prices the order when the form is sent,
// with the same rules (src/domain/pricing), and the page works without this script.
(() => {
  const summary = document.querySelector('[data-topup-summary]');
  if (!summary) return;
  const form = summary.closest('.topup-form');
  const data = summary.dataset;
  const other = form.querySelector('input[name="offer"][value="free"]');
  const amount = form.querySelector('input[name="amount"]');
  const money = new Intl.NumberFormat(data.locale, { style: 'currency', currency: data.currency, minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const decimal = new Intl.NumberFormat(data.locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const plural = new Intl.PluralRules(data.locale, { minimumFractionDigits: 2 });
  const units = (hundredths) => (plural.select(hundredths / 100) === 'one' ? data.unitsOne : data.unitsOther).replace('{value}', decimal.format(hundredths / 100));
  // "2000:500 5000:1000": from 20,00, +5 %; from 50,00, +10 % (lowest first).
  const tiers = data.bonusTiers.split(' ').filter(Boolean).map((tier) => tier.split(':').map(Number));
  const marks = data.currencyMarks.split(' ').map((mark) => mark.toUpperCase());

  /** "25", "25,5", "25,50 €", "€25.50" in cents; null for anything else (the server also reads "1 234,50"). */
  function cents(text) {
    let bare = text.trim();
    const mark = marks.find((each) => bare.toUpperCase().startsWith(each) || bare.toUpperCase().endsWith(each));
    if (mark) bare = (bare.toUpperCase().startsWith(mark) ? bare.slice(mark.length) : bare.slice(0, -mark.length)).trim();
    const match = /^(\d{1,7})(?:[.,](\d{1,2}))?$/.exec(bare);
    return match ? Number(match[1]) * 100 + Number((match[2] ?? '0').padEnd(2, '0')) : null;
  }

  /** What the form asks for: price, units and bonus, or null. */
  function quote() {
    const chosen = form.querySelector('input[name="offer"]:checked');
    if (chosen && chosen !== other) return { price: Number(chosen.dataset.priceCents), units: Number(chosen.dataset.units), bonus: Number(chosen.dataset.bonusUnits) };
    if (!amount || (!chosen && amount.value.trim() === '')) return null;
    const price = cents(amount.value);
    const [min, max, step] = [data.freeMin, data.freeMax, data.freeStep].map(Number);
    if (price === null || price < min || price > max || price % step !== 0) return null;
    const bought = Math.floor((price * 100) / Number(data.unitPriceCents));
    const tier = tiers.filter(([from]) => from <= price).pop();
    return { price, units: bought, bonus: tier ? Math.floor((bought * tier[1]) / 10000) : 0 };
  }

  function show() {
    const figures = quote();
    summary.querySelector('[data-summary-empty]').hidden = figures !== null;
    summary.querySelector('[data-summary-figures]').hidden = figures === null;
    if (!figures) return;
    const text = { price: money.format(figures.price / 100), units: units(figures.units), bonus: units(figures.bonus) };
    if (data.balance !== undefined) text.balanceAfter = units(Number(data.balance) + figures.units + figures.bonus);
    for (const [name, value] of Object.entries(text)) summary.querySelector(`[data-summary="${name}"]`).textContent = value;
  }

  form.addEventListener('input', (event) => {
    // Typing an amount chooses "Other amount" (where a browser shows the field beside a chosen pack).
    if (event.target === amount && other) other.checked = true;
    show();
  });
  form.addEventListener('change', show);
  // Hidden behind a chosen pack, the amount's field is no choice: it is not sent.
  form.addEventListener('formdata', (event) => {
    if (other && !other.checked) event.formData.delete('amount');
  });
  summary.querySelector('[data-summary-update]').remove();
  show();
})();
