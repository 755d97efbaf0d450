import { expect } from 'chai';
import fc from 'fast-check';
import {
  decodeMethodCall,
  decodeMethodResponse,
  encodeFault,
  encodeMethodCall,
  encodeMethodResponse,
  xmlDocumentText,
  XmlRpcDouble,
  XmlRpcFormatError,
  type XmlRpcValue,
} from '../../src/print-systems/papercut/xml-rpc.js';

/** Text XML can carry, with the characters that need escaping or would be normalised away. */
const xmlText = fc.stringMatching(/^[\t\n\r -~éà€😀&<>"']*$/u, { maxLength: 30 });
const value: fc.Arbitrary<XmlRpcValue> = fc.letrec<{ value: XmlRpcValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    xmlText,
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    fc.boolean(),
    fc.stringMatching(/^-?\d{1,12}(\.\d{1,6})?(E-?\d{1,2})?$/).map((text) => new XmlRpcDouble(text)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(xmlText, fc.constant('__proto__')), tie('value'), { maxKeys: 4 }),
  ),
})).value;

const response = (inner: string) => `<?xml version="1.0"?><methodResponse>${inner}</methodResponse>`;
const answerOf = (valueXml: string) => response(`<params><param><value>${valueXml}</value></param></params>`);

function refusal(decode: () => unknown): string {
  try {
    decode();
  } catch (error) {
    expect(error).to.be.instanceOf(XmlRpcFormatError);
    return (error as Error).message;
  }
  throw new Error('expected the document to be refused');
}

describe('XML-RPC codec', () => {
  describe('round trips', () => {
    it('reads back every call it writes: strings with & < > and line ends, ints, booleans, doubles, arrays, structs', () => {
      fc.assert(
        fc.property(fc.array(value, { maxLength: 5 }), (params) => {
          expect(decodeMethodCall(encodeMethodCall('api.adjustUserAccountBalance', params))).to.deep.equal({ method: 'api.adjustUserAccountBalance', params });
        }),
      );
    });

    it('reads back every answer and fault it writes', () => {
      fc.assert(
        fc.property(value, (answer) => {
          expect(decodeMethodResponse(encodeMethodResponse(answer))).to.deep.equal({ ok: true, value: answer });
        }),
      );
      fc.assert(
        fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), xmlText, (faultCode, faultString) => {
          expect(decodeMethodResponse(encodeFault({ faultCode, faultString }))).to.deep.equal({ ok: false, fault: { faultCode, faultString } });
        }),
      );
    });

    it('keeps a member named __proto__ as a member, without touching the prototype', () => {
      const decoded = decodeMethodResponse(answerOf('<struct><member><name>__proto__</name><value><boolean>1</boolean></value></member></struct>'));
      expect(decoded.ok && Object.getPrototypeOf(decoded.value)).to.equal(Object.prototype);
      expect(decoded.ok && Object.keys(decoded.value)).to.deep.equal(['__proto__']);
    });

    it('writes a double as its decimal text and a number as an int, as PaperCut’s Java signatures want', () => {
      const xml = encodeMethodCall('api.adjustUserAccountBalance', ['token', 'alice', new XmlRpcDouble('12.50'), 'R-1 <&>', 7]);
      expect(xml).to.include('<value><double>12.50</double></value>');
      expect(xml).to.include('<value><string>R-1 &#60;&#38;&#62;</string></value>');
      expect(xml).to.include('<value><int>7</int></value>');
      expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?><methodCall><methodName>api.adjustUserAccountBalance</methodName>')).to.equal(true);
    });
  });

  describe('answers as servers write them', () => {
    it('reads an untyped value as a string, i4 as an int, white space between elements, and Java’s exponent doubles', () => {
      expect(decodeMethodResponse(answerOf(' plain  text '))).to.deep.equal({ ok: true, value: ' plain  text ' });
      expect(decodeMethodResponse(answerOf('<i4> -42 </i4>'))).to.deep.equal({ ok: true, value: -42 });
      expect(decodeMethodResponse(answerOf('<double>1.2345678E7</double>'))).to.deep.equal({ ok: true, value: new XmlRpcDouble('1.2345678E7') });
      const pretty = '<?xml version="1.0" encoding="UTF-8"?>\n<methodResponse>\n  <params>\n    <param>\n      <value>\n        <array><data>\n          <value><boolean>0</boolean></value>\n        </data></array>\n      </value>\n    </param>\n  </params>\n</methodResponse>\n';
      expect(decodeMethodResponse(pretty)).to.deep.equal({ ok: true, value: [false] });
    });

    it('reads a fault whatever the order of its members, with an untyped faultString', () => {
      const fault = response('<fault><value><struct><member><name>faultString</name><value>User cannot be found</value></member><member><name>faultCode</name><value><int>262</int></value></member></struct></value></fault>');
      expect(decodeMethodResponse(fault)).to.deep.equal({ ok: false, fault: { faultCode: 262, faultString: 'User cannot be found' } });
    });

    it('reads the bytes in the encoding the declaration names, and Latin-1 bytes without a declaration', () => {
      const latin1 = Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><methodResponse/>'.replace('<methodResponse/>', '<m>José</m>'), 'latin1');
      expect(xmlDocumentText(latin1)).to.include('José');
      expect(xmlDocumentText(Buffer.from('<m>José</m>', 'latin1'))).to.equal('<m>José</m>');
      expect(xmlDocumentText(Buffer.from('<?xml version="1.0" encoding="UTF-8"?><m>José</m>', 'utf8'))).to.include('José');
      expect(refusal(() => xmlDocumentText(Buffer.from('<?xml version="1.0" encoding="UTF-8"?><m>José</m>', 'latin1')))).to.include('not the UTF-8 it declares');
      expect(refusal(() => xmlDocumentText(Buffer.from('<?xml version="1.0" encoding="Shift_JIS"?><m/>')))).to.include('Shift_JIS');
    });
  });

  describe('refusals', () => {
    it('refuses a document type or entities before parsing: no XXE, no entity expansion', () => {
      const xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><methodResponse><params><param><value>&x;</value></param></params></methodResponse>';
      expect(refusal(() => decodeMethodResponse(xxe))).to.include('document type');
      const laughs = `<!DOCTYPE r [<!ENTITY a "ha">${Array.from({ length: 8 }, (_, i) => `<!ENTITY ${'b'.repeat(i + 1)} "${'&a;'.repeat(10)}">`).join('')}]><methodCall><methodName>x</methodName></methodCall>`;
      expect(refusal(() => decodeMethodCall(laughs))).to.include('document type');
    });

    const malformed: Record<string, string> = {
      'not XML': 'HTTP ERROR 500',
      'a truncated answer': '<?xml version="1.0"?><methodResponse><params><param><value><boo',
      'an answer cut before its last closing tag': '<?xml version="1.0"?><methodResponse><params><param><value><boolean>1</boolean></value></param></params>',
      'another root': '<methodReply><params><param><value>1</value></param></params></methodReply>',
      'a namespaced root': '<m:methodResponse xmlns:m="urn:x"><params><param><value>1</value></param></params></m:methodResponse>',
      'two values': response('<params><param><value>1</value></param><param><value>2</value></param></params>'),
      'no value': response('<params></params>'),
      'a boolean other than 0 or 1': answerOf('<boolean>true</boolean>'),
      'an int beyond 32 bits': answerOf('<int>2147483648</int>'),
      'an int with a fraction': answerOf('<int>1.5</int>'),
      'a double in words': answerOf('<double>NaN</double>'),
      'base64': answerOf('<base64>AAAA</base64>'),
      'nil': answerOf('<nil/>'),
      'a struct naming a member twice': answerOf('<struct><member><name>a</name><value>1</value></member><member><name>a</name><value>2</value></member></struct>'),
      'a member without a value': answerOf('<struct><member><name>a</name></member></struct>'),
      'text beside a type element': answerOf('stray<string>x</string>'),
      'an element inside a string': answerOf('<string><b>x</b></string>'),
      'an entity XML does not define': answerOf('<string>a&nbsp;b</string>'),
      'a NUL written as a reference': answerOf('<string>a&#0;b</string>'),
      'a NUL in an untyped value': response('<params><param><value>a&#0;b</value></param></params>'),
      'a fault without a code': response('<fault><value><struct><member><name>faultString</name><value>x</value></member></struct></value></fault>'),
      'a fault whose code is a string': response('<fault><value><struct><member><name>faultCode</name><value>262</value></member><member><name>faultString</name><value>x</value></member></struct></value></fault>'),
      'values nested 18 deep': answerOf(`${'<array><data><value>'.repeat(18)}1${'</value></data></array>'.repeat(18)}`),
    };
    for (const [what, xml] of Object.entries(malformed)) {
      it(`refuses ${what}`, () => {
        refusal(() => decodeMethodResponse(xml));
      });
    }

    it('refuses a call without a method name or with text in params', () => {
      refusal(() => decodeMethodCall('<methodCall><params/></methodCall>'));
      refusal(() => decodeMethodCall('<methodCall><methodName>api.x</methodName><params>oops</params></methodCall>'));
      refusal(() => decodeMethodCall('<methodCall><methodName>api x</methodName></methodCall>'));
    });

    it('writes nothing it could not read back: fractions as int, ints beyond 32 bits, characters XML cannot carry, bad names, doubles in words', () => {
      refusal(() => encodeMethodResponse(1.5));
      refusal(() => encodeMethodResponse(2 ** 31));
      refusal(() => encodeMethodResponse('bell \u0007'));
      refusal(() => encodeMethodResponse('half a pair \ud83d'));
      refusal(() => encodeMethodCall('api.adjust<x>', []));
      refusal(() => new XmlRpcDouble('1,5'));
      refusal(() => new XmlRpcDouble('Infinity'));
    });
  });
});
