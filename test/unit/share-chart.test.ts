import { expect } from 'chai';
import fc from 'fast-check';
import { SHARE_CHART_WIDTH, shareChartSvg, type SharePart } from '../../src/web/charts/share-chart.js';

const chart = (parts: SharePart[]) => shareChartSvg({ id: 'usage-chart', title: 'Shares', description: 'What was used', parts, barColour: '#1f4e79' });
const widths = (svg: string) => [...svg.matchAll(/<rect class="chart__bar" [^>]*width="([^"]+)"/g)].map((match) => Number(match[1]));

describe('server-side share chart (SVG)', () => {
  it('draws one bar per part, its length its share of the full width', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 6 }), (percentages) => {
        const drawn = widths(chart(percentages.map((percent, index) => ({ label: `part ${index}`, percent, valueText: `${percent} %` }))));
        expect(drawn).to.have.length(percentages.length);
        percentages.forEach((percent, index) => expect(drawn[index]).to.be.closeTo((percent / 100) * SHARE_CHART_WIDTH, 0.01));
      }),
    );
  });

  it('writes each part\'s name and figures as text, so colour alone tells nothing apart', () => {
    const svg = chart([
      { label: 'Print', percent: 80, valueText: '80 %' },
      { label: 'Fax', percent: 20, valueText: '20 %' },
    ]);
    expect(svg).to.include('>Print</text>').and.include('>80 %</text>').and.include('>Fax</text>').and.include('>20 %</text>');
    expect(svg).to.include('role="img"').and.include('aria-labelledby="usage-chart-title usage-chart-desc"').and.include('<desc id="usage-chart-desc">What was used</desc>');
    expect(svg).not.to.match(/style=|<script/i);
  });

  it('escapes every text and refuses an id or a colour it cannot write as is', () => {
    const svg = chart([{ label: '<b>&"\'', percent: 10, valueText: '<i>' }]);
    expect(svg).not.to.include('<b>').and.not.to.include('<i>');
    expect(svg).to.include('&#60;b&#62;&#38;&#34;&#39;');
    expect(() => shareChartSvg({ id: 'Bad Id', title: '', description: '', parts: [], barColour: '#000000' })).to.throw();
    expect(() => shareChartSvg({ id: 'ok', title: '', description: '', parts: [], barColour: 'red' })).to.throw();
  });
});
