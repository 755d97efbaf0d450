import { expect } from 'chai';
import fc from 'fast-check';
import { axisStep, barChartSvg, escapeXml, PLOT_HEIGHT, type Bar } from '../../src/web/charts/bar-chart.js';

const bars = (values: number[]): Bar[] => values.map((value, index) => ({ value, label: `d${index}`, tooltip: `day ${index}: ${value}` }));
const chart = (values: number[]) => barChartSvg({ id: 'test-chart', title: 'Title', description: 'Description', bars: bars(values), formatValue: (value) => `${value} c`, barColour: '#1f4e79' });
const heights = (svg: string) => [...svg.matchAll(/<rect class="chart__bar" [^>]*height="([^"]+)"/g)].map((match) => Number(match[1]));

describe('server-side bar chart (SVG)', () => {
  it('draws one bar per value, days with nothing as flat bars', () => {
    const svg = chart([0, 300, 0, 150, 0, 0, 0]);
    expect(heights(svg)).to.have.length(7);
    expect(heights(svg).filter((height) => height === 0)).to.have.length(5);
  });

  it('makes heights proportional to values, the tallest within the plot', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 366 }), (values) => {
        const drawn = heights(chart(values));
        expect(drawn).to.have.length(values.length);
        const max = Math.max(...values);
        const tallest = Math.max(...drawn);
        expect(tallest).to.be.at.most(PLOT_HEIGHT);
        if (max === 0) expect(drawn.every((height) => height === 0)).to.equal(true);
        else {
          expect(tallest).to.be.greaterThan(PLOT_HEIGHT / 2.5);
          values.forEach((value, index) => expect(drawn[index]).to.be.closeTo((value / max) * tallest, 0.02));
        }
      }),
    );
  });

  it('does not divide by zero when nothing was paid', () => {
    const svg = chart([0, 0, 0]);
    expect(svg).not.to.match(/NaN|Infinity/);
    expect(svg.match(/class="chart__value"/g)).to.have.length(1);
    expect(svg).to.include('>0 c</text>');
  });

  it('labels the axis with round steps', () => {
    expect(axisStep(0)).to.equal(1);
    expect(axisStep(3)).to.equal(1);
    expect(axisStep(4550)).to.equal(2000);
    expect(axisStep(100_000)).to.equal(50_000);
    const svg = chart([4550]);
    expect([...svg.matchAll(/class="chart__value"[^>]*>([^<]*)</g)].map((match) => match[1])).to.deep.equal(['0 c', '2000 c', '4000 c', '6000 c']);
  });

  it('is accessible and escapes every text it is given', () => {
    const svg = barChartSvg({
      id: 'escaped',
      title: 'Top-ups <b>&</b>',
      description: 'Total "20 €" & \'more\'',
      bars: [{ value: 1, label: '<x>', tooltip: '</title><script>alert(1)</script>' }],
      formatValue: (value) => `<${value}>`,
      barColour: '#123456',
    });
    expect(svg).to.match(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]* role="img" aria-labelledby="escaped-title escaped-desc"/);
    expect(svg).to.include('<title id="escaped-title">Top-ups &#60;b&#62;&#38;&#60;/b&#62;</title>');
    expect(svg).to.include('<desc id="escaped-desc">Total &#34;20 €&#34; &#38; &#39;more&#39;</desc>');
    expect(svg).to.include('<title>&#60;/title&#62;&#60;script&#62;alert(1)&#60;/script&#62;</title>');
    expect(svg).to.include('>&#60;x&#62;</text>');
    expect(svg).not.to.match(/<script|style=/);
    expect(escapeXml(`&<>"'`)).to.equal('&#38;&#60;&#62;&#34;&#39;');
  });

  it('refuses ids and colours that would need escaping in attributes', () => {
    expect(() => barChartSvg({ id: 'x" onload="y', title: '', description: '', bars: [], formatValue: String, barColour: '#000000' })).to.throw(/id/);
    expect(() => barChartSvg({ id: 'x', title: '', description: '', bars: [], formatValue: String, barColour: 'red"' })).to.throw(/colour/);
  });

  it('labels at most a dozen days under a long range', () => {
    const svg = chart(Array.from({ length: 366 }, () => 1));
    expect(svg.match(/class="chart__label"/g)!.length).to.be.within(10, 12);
  });
});
