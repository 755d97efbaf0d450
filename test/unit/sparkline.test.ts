import { expect } from 'chai';
import fc from 'fast-check';
import { SPARKLINE_SIZE, sparklineSvg } from '../../src/web/charts/sparkline.js';

const base = { id: 'trend-eur', title: 'Recharges', description: '3 recharges', colour: '#1f4e8c' };
const ys = (svg: string) => /<polyline points="([^"]+)"/.exec(svg)![1]!.split(' ').map((point) => Number(point.split(',')[1]));
const xs = (svg: string) => /<polyline points="([^"]+)"/.exec(svg)![1]!.split(' ').map((point) => Number(point.split(',')[0]));

describe('sparkline', () => {
  it('draws every value inside the picture, left to right, the highest at the top and zero at the bottom', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 10_000_000 }), { minLength: 1, maxLength: 60 }), (values) => {
        const svg = sparklineSvg({ ...base, values });
        const [x, y] = [xs(svg), ys(svg)];
        expect(x).to.have.length(values.length);
        x.forEach((value, index) => index > 0 && expect(value).to.be.greaterThan(x[index - 1]!));
        for (const value of [...x, ...y]) expect(value).to.be.within(0, Math.max(SPARKLINE_SIZE.width, SPARKLINE_SIZE.height));
        const max = Math.max(...values);
        values.forEach((value, index) => {
          if (value === 0) expect(y[index]).to.equal(Math.max(...y));
          if (max > 0 && value === max) expect(y[index]).to.equal(Math.min(...y));
        });
      }),
    );
  });

  it('is a flat line at the bottom when nothing happened', () => {
    expect(new Set(ys(sparklineSvg({ ...base, values: [0, 0, 0] })))).to.deep.equal(new Set([SPARKLINE_SIZE.height - 3]));
  });

  it('names itself for screen readers and escapes its texts', () => {
    const svg = sparklineSvg({ ...base, title: 'Top-ups <30 days>', description: 'A & B', values: [1, 2] });
    expect(svg).to.include('role="img" aria-labelledby="trend-eur-title trend-eur-desc"');
    expect(svg).to.include('<title id="trend-eur-title">Top-ups &#60;30 days&#62;</title>').and.include('<desc id="trend-eur-desc">A &#38; B</desc>');
  });

  it('refuses an id or a colour it would have to escape, and an empty series', () => {
    expect(() => sparklineSvg({ ...base, id: 'a" onload="x', values: [1] })).to.throw(/plain lower-case id/);
    expect(() => sparklineSvg({ ...base, colour: 'red', values: [1] })).to.throw(/#rrggbb/);
    expect(() => sparklineSvg({ ...base, values: [] })).to.throw(/at least one value/);
  });
});
