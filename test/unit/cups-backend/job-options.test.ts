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
    for (const mono of ['print-color-mode=monochrome', 'ColorModel=Gray', 'ColorModel=KGray', 'ColorModel=Grayscale', 'ColorMode=Mono', 'output-mode=monochrome', 'HPColorMode=grayscale']) {
      expect(modeOf(`media=A4 ${mono}`).colour, mono).to.equal(false);
    }
  });

  it('never charges colour on a printer without colour', () => {
    expect(modeOf('print-color-mode=color', false).colour).to.equal(false);
  });

  it('charges duplex when sides or Duplex ask for two sides', () => {
    for (const duplex of ['sides=two-sided-long-edge', 'sides=two-sided-short-edge', 'Duplex=DuplexNoTumble', 'Duplex=DuplexTumble']) {
      expect(modeOf(duplex).duplex, duplex).to.equal(true);
    }
    for (const simplex of ['', 'sides=one-sided', 'Duplex=None']) {
      expect(modeOf(simplex).duplex, simplex).to.equal(false);
    }
  });
});
