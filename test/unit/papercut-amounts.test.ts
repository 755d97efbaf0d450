import { expect } from 'chai';
import fc from 'fast-check';
import { hundredthsOf, paperCutAmount } from '../../src/print-systems/papercut/amounts.js';
import { javaDoubleText } from '../../src/print-systems/papercut/simulator/api.js';
import { XmlRpcDouble } from '../../src/print-systems/papercut/xml-rpc.js';

const read = (text: string) => hundredthsOf(new XmlRpcDouble(text));

describe('PaperCut amounts', () => {
  it('sends hundredths as their exact decimal text', () => {
    expect([1250, -5, 0, 100].map((hundredths) => paperCutAmount(hundredths).text)).to.deep.equal(['12.50', '-0.05', '0.00', '1.00']);
    expect(() => paperCutAmount(12.5)).to.throw(RangeError);
  });

  it('reads a double’s text to the nearest hundredth without binary floating point', () => {
    expect(['12.5', '12.299999999999999', '-3.0', '1.2345678E7', '0.1', '.5', '7'].map(read)).to.deep.equal([1250, 1230, -300, 1234567800, 10, 50, 700]);
  });

  it('rounds finer fractions to the nearest hundredth, halves away from zero, and never to minus zero', () => {
    expect(['0.045', '-0.045', '0.044', '1.0E-5', '-0.001'].map(read)).to.deep.equal([5, -5, 4, 0, 0]);
    expect(Object.is(read('-0.001'), -0)).to.equal(false);
  });

  it('gives up on amounts beyond a safe integer of hundredths', () => {
    expect(read('1.0E20')).to.equal(null);
    expect(read('90071992547409.92')).to.equal(null);
    expect(read('90071992547409.91')).to.equal(Number.MAX_SAFE_INTEGER);
  });

  it('has the simulator write balances as Java’s Double.toString does', () => {
    expect([1250, -300, 5, 1_234_567_890, -1_000_000_000].map(javaDoubleText)).to.deep.equal(['12.5', '-3.0', '0.05', '1.23456789E7', '-1.0E7']);
  });

  it('reads back every amount it sends, and every balance PaperCut writes the way Java does', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e15, max: 1e15 }), (hundredths) => {
        expect(hundredthsOf(paperCutAmount(hundredths))).to.equal(hundredths);
        expect(read(javaDoubleText(hundredths))).to.equal(hundredths);
        expect(read(String(hundredths / 100))).to.equal(hundredths);
      }),
    );
  });
});
