import { expect } from 'chai';
import { parseJobOptions, printModeOf } from '../../../src/cups-backend/job-options.js';

const modeOf = (options: string, printerHasColour = true) => printModeOf(parseJobOptions(options), printerHasColour);

describe('CUPS backend: job options', () => {
  it('reads name=value, bare names, quotes and escapes', () => {
    const options = parseJobOptions(`job-uuid=urn:uuid:1 noCollate job-name='My report' title="a \\"b\\"" path=a\\ b Duplex=DuplexNoTumble`);
    expect(Object.fromEntries(options)).to.deep.equal({ 'job-uuid': 'urn:uuid:1', nocollate: 'true', 'job-name': 'My report', title: 'a "b"', path: 'a b', duplex: 'DuplexNoTumble' });
  });

  it('charges colour on a colour printer unless an option asks for grey', () => {
    expect(modeOf('').colour).to.equal(true);
    expect(modeOf('print-color-mode=color').colour).to.equal(true);
    for (const mono of ['print-color-mode=monochrome', 'print-color-mode=auto-monochrome', 'ColorModel=Gray', 'ColorModel=KGray', 'ColorModel=Grayscale', 'ColorMode=Mono', 'output-mode=monochrome', 'print-color-mode=monochrome ColorModel=Gray']) {
      expect(modeOf(`media=A4 ${mono}`).colour, mono).to.equal(false);
    }
  });

  it('charges colour when only a made-up option asks for grey: only the options printing systems read count', () => {
    for (const madeUp of ['my-colour=mono', 'HPColorMode=grayscale', 'colour=gray', 'print-colour-mode=monochrome']) {
      expect(modeOf(madeUp).colour, madeUp).to.equal(true);
    }
  });

  it('charges colour when the colour options disagree', () => {
    for (const disagreeing of ['print-color-mode=monochrome ColorModel=RGB', 'ColorModel=Gray print-color-mode=color', 'ColorMode=Mono output-mode=auto']) {
      expect(modeOf(disagreeing).colour, disagreeing).to.equal(true);
    }
  });

  it('never charges colour on a printer without colour', () => {
    expect(modeOf('print-color-mode=color', false).colour).to.equal(false);
  });

  it('charges duplex when sides or Duplex ask for two sides', () => {
    for (const duplex of ['sides=two-sided-long-edge', 'sides=two-sided-short-edge', 'Duplex=DuplexNoTumble', 'Duplex=DuplexTumble', 'JCLDuplex=DuplexTumble', 'sides=two-sided-long-edge Duplex=DuplexNoTumble']) {
      expect(modeOf(duplex).duplex, duplex).to.equal(true);
    }
    for (const simplex of ['', 'sides=one-sided', 'Duplex=None', 'my-sides=two-sided-long-edge', 'MyDuplex=DuplexTumble']) {
      expect(modeOf(simplex).duplex, simplex).to.equal(false);
    }
  });

  it('charges one-sided (dearer a page) when the sides options disagree', () => {
    for (const disagreeing of ['sides=two-sided-long-edge Duplex=None', 'Duplex=DuplexTumble sides=one-sided', 'sides=two-sided-short-edge JCLDuplex=False']) {
      expect(modeOf(disagreeing).duplex, disagreeing).to.equal(false);
    }
  });
});
