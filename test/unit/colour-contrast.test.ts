import { expect } from 'chai';
import fc from 'fast-check';
import { colourProblems, contrastRatio, mix, paletteOf, readableOn, TEXT_CONTRAST, type ThemeColours } from '../../src/domain/branding/colour-contrast.js';

const hexColour = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map(
  (channels) => `#${channels.map((channel) => channel.toString(16).padStart(2, '0')).join('')}`,
);

/** Random themes are mostly unreadable; light and dark backgrounds with strong text make usable ones common. */
const themeColours: fc.Arbitrary<ThemeColours> = fc.record({ primary: hexColour, accent: hexColour, background: hexColour, text: hexColour });
const likelyReadable: fc.Arbitrary<ThemeColours> = fc
  .record({
    dark: fc.boolean(),
    primary: hexColour,
    accent: hexColour,
    shade: fc.integer({ min: 0, max: 40 }),
    ink: fc.integer({ min: 0, max: 60 }),
  })
  .map(({ dark, primary, accent, shade, ink }) => {
    const grey = (value: number) => `#${value.toString(16).padStart(2, '0').repeat(3)}`;
    return dark
      ? { primary, accent, background: grey(shade), text: grey(255 - ink) }
      : { primary, accent, background: grey(255 - shade), text: grey(ink) };
  });

/** The default theme's colours. */
const recharge: ThemeColours = { primary: '#1d4f91', accent: '#c2410c', background: '#ffffff', text: '#1a1d21' };

describe('colour contrast (WCAG 2.x)', () => {
  it('gives the known ratios', () => {
    expect(contrastRatio('#000000', '#ffffff')).to.equal(21);
    expect(contrastRatio('#ffffff', '#ffffff')).to.equal(1);
    expect(contrastRatio('#777777', '#ffffff')).to.be.closeTo(4.48, 0.005);
    expect(contrastRatio('#767676', '#ffffff')).to.be.closeTo(4.54, 0.005);
    expect(contrastRatio('#1d4f91', '#ffffff')).to.be.closeTo(8.14, 0.005);
    expect(contrastRatio('#ff0000', '#ffffff')).to.be.closeTo(4.0, 0.005);
    expect(contrastRatio('#0000ff', '#000000')).to.be.closeTo(2.44, 0.005);
  });

  it('accepts upper-case hex and refuses anything else', () => {
    expect(contrastRatio('#FFFFFF', '#000000')).to.equal(21);
    for (const bad of ['#fff', 'white', '#12345g', 'rgb(0, 0, 0)']) expect(() => contrastRatio(bad, '#000000'), bad).to.throw(RangeError);
  });

  it('is symmetric and between 1 and 21', () => {
    fc.assert(
      fc.property(hexColour, hexColour, (one, other) => {
        const ratio = contrastRatio(one, other);
        expect(ratio).to.equal(contrastRatio(other, one));
        expect(ratio).to.be.at.least(1).and.at.most(21);
      }),
    );
  });

  it('mixes channel by channel and picks black or white, whichever reads better', () => {
    expect(mix('#000000', '#ffffff', 0.5)).to.equal('#808080');
    expect(mix('#1d4f91', '#ffffff', 1)).to.equal('#1d4f91');
    expect(readableOn('#1d4f91')).to.equal('#ffffff');
    expect(readableOn('#ffd700')).to.equal('#000000');
    fc.assert(
      fc.property(hexColour, (background) => {
        expect(contrastRatio(readableOn(background), background)).to.be.at.least(4.58);
      }),
    );
  });

  describe('colourProblems', () => {
    it('passes the default theme', () => {
      expect(colourProblems(recharge)).to.deep.equal([]);
    });

    it('names malformed colours before judging any contrast', () => {
      expect(colourProblems({ ...recharge, primary: 'blue', text: undefined })).to.deep.equal([
        { kind: 'format', colour: 'primary' },
        { kind: 'format', colour: 'text' },
      ]);
    });

    it('names each pair below its minimum, with its lower ratio floored (4.499 is never shown as a passing 4.50)', () => {
      const canvas = paletteOf({ ...recharge, text: '#777777' }).canvas;
      const lower = Math.min(contrastRatio('#777777', '#ffffff'), contrastRatio('#777777', canvas));
      expect(colourProblems({ ...recharge, text: '#777777' })).to.deep.equal([
        { kind: 'contrast', pair: 'text-background', ratio: Math.floor(lower * 100) / 100, minimum: 4.5 },
      ]);
      expect(Math.floor(lower * 100) / 100).to.equal(4.21);
      const problems = colourProblems({ ...recharge, primary: '#8fb3e0', accent: '#fdba74' });
      expect(problems.map((problem) => problem.kind === 'contrast' && [problem.pair, problem.minimum])).to.deep.equal([
        ['primary-background', 4.5],
        ['accent-background', 3],
      ]);
    });

    it('judges text on the canvas around the cards too, not only on the cards', () => {
      // #737373 reaches 4.5 on white (4.74) but not on the slightly darker canvas (4.46).
      expect(contrastRatio('#737373', '#ffffff')).to.be.at.least(TEXT_CONTRAST);
      expect(colourProblems({ ...recharge, text: '#737373' })).to.deep.equal([{ kind: 'contrast', pair: 'text-background', ratio: 4.46, minimum: 4.5 }]);
      expect(colourProblems({ ...recharge, text: '#727272' })).to.deep.equal([]);
    });
  });

  describe('paletteOf', () => {
    /** Every text colour the stylesheet draws, on what it is drawn. */
    const textPairs = (colours: ThemeColours) => {
      const palette = paletteOf(colours);
      return Object.entries({
        'text on background': [palette.text, palette.background],
        'text on canvas': [palette.text, palette.canvas],
        'muted on background': [palette.muted, palette.background],
        'muted on canvas': [palette.muted, palette.canvas],
        'positive on background': [palette.positive, palette.background],
        'positive on canvas': [palette.positive, palette.canvas],
        'negative on background': [palette.negative, palette.background],
        'negative on canvas': [palette.negative, palette.canvas],
        'on-primary on primary': [palette.onPrimary, palette.primary],
        'primary on background': [palette.primary, palette.background],
        'primary on canvas': [palette.primary, palette.canvas],
      }) as [string, [string, string]][];
    };

    it('derives the default theme palette', () => {
      expect(paletteOf(recharge)).to.deep.include({ canvas: '#f4f4f4', onPrimary: '#ffffff', positive: '#146c2e', negative: '#a4161a' });
    });

    it('reaches 4.5:1 for every text colour whenever colourProblems finds nothing', () => {
      let usable = 0;
      fc.assert(
        fc.property(fc.oneof(themeColours, likelyReadable), (colours) => {
          if (colourProblems(colours).length > 0) return;
          usable += 1;
          for (const [pair, [foreground, background]] of textPairs(colours)) {
            expect(contrastRatio(foreground, background), `${pair} for ${JSON.stringify(colours)}`).to.be.at.least(TEXT_CONTRAST);
          }
        }),
        { numRuns: 2000 },
      );
      expect(usable, 'themes that passed colourProblems').to.be.greaterThan(100);
    });

    it('keeps every palette colour a #rrggbb the stylesheet can use', () => {
      fc.assert(
        fc.property(themeColours, (colours) => {
          for (const colour of Object.values(paletteOf(colours))) expect(colour).to.match(/^#[0-9a-f]{6}$/);
        }),
      );
    });
  });
});
