// IT's branding form (views/it/branding-form.ejs): each colour's picker and its #rrggbb field kept
// equal, whichever the person uses, and the preview redrawn in the colours and name being typed.
// The server reads the typed field (the picker only when nothing is typed) and checks everything,
// so the form works the same without this script.
(() => {
  const form = document.querySelector('form.branding-form');
  if (!form) return;
  const HEX = /^#[0-9a-f]{6}$/i;
  const preview = form.querySelector('[data-branding-preview]');

  /** WCAG relative luminance, as src/domain/branding/colour-contrast.ts computes it. */
  const luminance = (hex) => {
    const [r, g, b] = [1, 3, 5].map((start) => {
      const s = Number.parseInt(hex.slice(start, start + 2), 16) / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  /** White or black, whichever reads better on the colour (the server's readableOn). */
  const readableOn = (hex) => ((1.05 / (luminance(hex) + 0.05)) >= ((luminance(hex) + 0.05) / 0.05) ? preview.dataset.onDark : preview.dataset.onLight);

  function redraw() {
    if (!preview) return;
    const colours = {};
    for (const picker of form.querySelectorAll('input[data-colour-picker]')) colours[picker.dataset.colourPicker] = picker.value;
    colours.onPrimary = readableOn(colours.primary);
    for (const shape of preview.querySelectorAll('[data-fill]')) shape.setAttribute('fill', colours[shape.dataset.fill]);
    for (const shape of preview.querySelectorAll('[data-stroke]')) shape.setAttribute('stroke', colours[shape.dataset.stroke]);
    const name = form.querySelector('[data-preview-name]');
    const nameText = preview.querySelector('[data-preview-name-text]');
    if (name && nameText) nameText.textContent = name.value;
  }

  for (const picker of form.querySelectorAll('input[data-colour-picker]')) {
    const hex = document.getElementById(picker.dataset.colourPicker);
    if (!hex) continue;
    picker.addEventListener('input', () => {
      hex.value = picker.value;
    });
    hex.addEventListener('input', () => {
      const typed = hex.value.trim();
      if (HEX.test(typed)) picker.value = typed.toLowerCase();
    });
  }
  form.addEventListener('input', redraw);
})();
