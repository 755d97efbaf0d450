import { DOMParser, onWarningStopParsing, type Element } from '@xmldom/xmldom';

/**
 * The part of XML-RPC (xmlrpc.com/spec.md) that PaperCut's web services use: string, int/i4, double,
 * boolean, struct, array and faults, both ways (the client writes calls and reads answers, the
 * simulator the reverse). base64, dateTime.iso8601 and extensions such as nil are refused.
 */

/** Too deep for any answer PaperCut gives, shallow enough that recursion stays cheap. */
const MAX_DEPTH = 16;
/** Decimal notation, with the exponent Java's Double.toString writes for large and tiny values. */
const DOUBLE_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?$/;
const INT_TEXT = /^[+-]?\d{1,10}$/;
const METHOD_NAME = /^[A-Za-z0-9_.:/]{1,100}$/;
/** A `<double>` kept as its decimal text, so amounts go out and come back without binary rounding on our side. */
export class XmlRpcDouble {
  constructor(readonly text: string) {
    if (!DOUBLE_TEXT.test(text)) throw new XmlRpcFormatError(`${JSON.stringify(text.slice(0, 40))} is not a decimal number`);
  }
}

/** A JavaScript number is an `<int>` (a 32-bit integer); a double is an XmlRpcDouble. */
export type XmlRpcValue = string | number | boolean | XmlRpcDouble | readonly XmlRpcValue[] | XmlRpcStruct;
export interface XmlRpcStruct {
  readonly [member: string]: XmlRpcValue;
}

export interface XmlRpcFault {
  faultCode: number;
  faultString: string;
}

export type XmlRpcResponse = { ok: true; value: XmlRpcValue } | { ok: false; fault: XmlRpcFault };

export interface XmlRpcCall {
  method: string;
  params: XmlRpcValue[];
}

/** The text is not XML-RPC we read, or a value cannot be written as XML-RPC. */
export class XmlRpcFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlRpcFormatError';
  }
}

export function encodeMethodCall(method: string, params: readonly XmlRpcValue[]): string {
  if (!METHOD_NAME.test(method)) throw new XmlRpcFormatError(`${JSON.stringify(method.slice(0, 40))} is not an XML-RPC method name`);
  const encoded = params.map((param) => `<param>${encodeValue(param, 0)}</param>`).join('');
  return `${DECLARATION}<methodCall><methodName>${method}</methodName><params>${encoded}</params></methodCall>`;
}

export function encodeMethodResponse(value: XmlRpcValue): string {
  return `${DECLARATION}<methodResponse><params><param>${encodeValue(value, 0)}</param></params></methodResponse>`;
}

export function encodeFault(fault: XmlRpcFault): string {
  return `${DECLARATION}<methodResponse><fault>${encodeValue({ faultCode: fault.faultCode, faultString: fault.faultString }, 0)}</fault></methodResponse>`;
}

/** Throws XmlRpcFormatError unless `xml` is one methodCall. */
export function decodeMethodCall(xml: string): XmlRpcCall {
  const root = parseDocument(xml, 'methodCall');
  const [nameElement, paramsElement, ...rest] = elementChildren(root);
  if (nameElement?.localName !== 'methodName' || rest.length > 0 || (paramsElement && paramsElement.localName !== 'params')) {
    throw new XmlRpcFormatError('a methodCall holds a methodName and at most one params');
  }
  const method = textOnly(nameElement).trim();
  if (!METHOD_NAME.test(method)) throw new XmlRpcFormatError('the methodName is not a method name');
  return { method, params: paramsElement ? elementChildren(paramsElement).map((param) => decodeParam(param)) : [] };
}

/** Throws XmlRpcFormatError unless `xml` is one methodResponse: a single value, or a fault. */
export function decodeMethodResponse(xml: string): XmlRpcResponse {
  const root = parseDocument(xml, 'methodResponse');
  const [outcome, ...rest] = elementChildren(root);
  if (!outcome || rest.length > 0) throw new XmlRpcFormatError('a methodResponse holds exactly one params or fault');
  if (outcome.localName === 'params') {
    const params = elementChildren(outcome);
    if (params.length !== 1) throw new XmlRpcFormatError('a methodResponse returns exactly one value');
    return { ok: true, value: decodeParam(params[0] as Element) };
  }
  if (outcome.localName !== 'fault') throw new XmlRpcFormatError(`a methodResponse holds params or fault, not ${outcome.localName}`);
  const fault = decodeValue(onlyChild(outcome, 'value'), 0);
  const { faultCode, faultString } = (isStruct(fault) ? fault : {}) as { faultCode?: XmlRpcValue; faultString?: XmlRpcValue };
  if (typeof faultCode !== 'number' || typeof faultString !== 'string') throw new XmlRpcFormatError('a fault is a struct of an int faultCode and a string faultString');
  return { ok: false, fault: { faultCode, faultString } };
}

/**
 * The text of an XML document received as bytes: in the encoding its declaration names (UTF-8 or
 * ISO-8859-1, the default of the Apache XML-RPC 2 library PaperCut's examples use); without a
 * declaration UTF-8, or ISO-8859-1 when the bytes are not UTF-8.
 */
export function xmlDocumentText(bytes: Buffer): string {
  const declared = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(bytes.subarray(0, 200).toString('latin1'))?.[1];
  if (declared === undefined || /^utf-?8$/i.test(declared)) {
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch (error) {
      if (declared !== undefined) throw new XmlRpcFormatError(`the document is not the UTF-8 it declares (${(error as Error).message})`);
    }
  } else if (!/^(iso[-_]?8859[-_]1|latin-?1|us-ascii)$/i.test(declared)) {
    throw new XmlRpcFormatError(`the document's encoding ${declared} is not one we read`);
  }
  return bytes.toString('latin1');
}

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

function encodeValue(value: XmlRpcValue, depth: number): string {
  if (depth > MAX_DEPTH) throw new XmlRpcFormatError(`values nest deeper than ${MAX_DEPTH} levels`);
  if (typeof value === 'string') return `<value><string>${escapeText(value)}</string></value>`;
  if (typeof value === 'boolean') return `<value><boolean>${value ? 1 : 0}</boolean></value>`;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) throw new XmlRpcFormatError(`${value} is not a 32-bit integer: send a double as an XmlRpcDouble`);
    return `<value><int>${value}</int></value>`;
  }
  if (value instanceof XmlRpcDouble) return `<value><double>${value.text}</double></value>`;
  if (Array.isArray(value)) return `<value><array><data>${value.map((item: XmlRpcValue) => encodeValue(item, depth + 1)).join('')}</data></array></value>`;
  const members = Object.entries(value as XmlRpcStruct).map(([name, member]) => `<member><name>${escapeText(name)}</name>${encodeValue(member, depth + 1)}</member>`);
  return `<value><struct>${members.join('')}</struct></value>`;
}

/** `&` and `<` must be escaped in text, `>` too after `]]`; a carriage return would be read back as a line feed. */
function escapeText(text: string): string {
  return xmlText(text).replace(/[&<>\r]/g, (character) => `&#${character.charCodeAt(0)};`);
}

/**
 * The text, when XML can carry every character of it — on the way out, and on the way in too: the
 * parser decodes references such as `&#0;`, which would reach our logs and database as a NUL.
 */
function xmlText(text: string): string {
  for (const character of text) {
    if (!isXmlCharacter(character.codePointAt(0) as number)) throw new XmlRpcFormatError('the text holds a character XML cannot carry');
  }
  return text;
}

/** XML 1.0's Char production: other characters cannot be written at all, not even as references (lone surrogates included). */
function isXmlCharacter(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

function parseDocument(xml: string, rootName: string): Element {
  // XML-RPC never needs a document type: refusing one up front rules out entity tricks (XXE, entity expansion).
  if (/<!(DOCTYPE|ENTITY)/i.test(xml)) throw new XmlRpcFormatError('the document declares a document type or entities');
  let root: Element | null;
  try {
    root = new DOMParser({ onError: onWarningStopParsing }).parseFromString(xml, 'text/xml').documentElement;
  } catch (error) {
    throw new XmlRpcFormatError(`the document is not well-formed XML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!root || root.localName !== rootName || root.namespaceURI !== null) throw new XmlRpcFormatError(`the document is not a ${rootName}`);
  return root;
}

function decodeParam(param: Element): XmlRpcValue {
  if (param.localName !== 'param') throw new XmlRpcFormatError(`params holds param elements, not ${param.localName}`);
  return decodeValue(onlyChild(param, 'value'), 0);
}

function decodeValue(value: Element, depth: number): XmlRpcValue {
  if (depth > MAX_DEPTH) throw new XmlRpcFormatError(`values nest deeper than ${MAX_DEPTH} levels`);
  // A value without a type element is a string.
  if (contentOf(value).elements.length === 0) return xmlText(value.textContent ?? '');
  const typed = onlyChild(value);
  const name = typed.localName;
  if (name === 'string') return textOnly(typed);
  if (name === 'boolean') {
    const text = textOnly(typed).trim();
    if (text !== '0' && text !== '1') throw new XmlRpcFormatError('a boolean is 0 or 1');
    return text === '1';
  }
  if (name === 'int' || name === 'i4') {
    const text = textOnly(typed).trim();
    const number = Number(text);
    if (!INT_TEXT.test(text) || number < -(2 ** 31) || number >= 2 ** 31) throw new XmlRpcFormatError(`${JSON.stringify(text.slice(0, 20))} is not a 32-bit integer`);
    return number;
  }
  if (name === 'double') return new XmlRpcDouble(textOnly(typed).trim());
  if (name === 'array') return elementChildren(onlyChild(typed, 'data')).map((item) => decodeValue(expectName(item, 'value'), depth + 1));
  if (name === 'struct') {
    const members = elementChildren(typed).map((member): [string, XmlRpcValue] => {
      const [nameElement, valueElement, ...rest] = elementChildren(expectName(member, 'member'));
      if (nameElement?.localName !== 'name' || valueElement?.localName !== 'value' || rest.length > 0) throw new XmlRpcFormatError('a member holds a name and a value');
      return [textOnly(nameElement), decodeValue(valueElement, depth + 1)];
    });
    if (new Set(members.map(([memberName]) => memberName)).size < members.length) throw new XmlRpcFormatError('a struct names a member twice');
    // fromEntries defines own properties: a member named __proto__ stays a member.
    return Object.fromEntries(members);
  }
  throw new XmlRpcFormatError(`${name} values are not supported`);
}

function isStruct(value: XmlRpcValue): value is XmlRpcStruct {
  return typeof value === 'object' && !Array.isArray(value) && !(value instanceof XmlRpcDouble);
}

/** The element children of an element, and whether it also holds text other than white space. */
function contentOf(parent: Element): { elements: Element[]; hasText: boolean } {
  const elements: Element[] = [];
  let hasText = false;
  for (const node of Array.from(parent.childNodes)) {
    if (node.nodeType === node.ELEMENT_NODE) elements.push(node as Element);
    else if ((node.nodeType === node.TEXT_NODE || node.nodeType === node.CDATA_SECTION_NODE) && (node.nodeValue ?? '').trim() !== '') hasText = true;
  }
  return { elements, hasText };
}

/** The children of an element that holds elements only (white space between them aside). */
function elementChildren(parent: Element): Element[] {
  const { elements, hasText } = contentOf(parent);
  if (hasText) throw new XmlRpcFormatError(`${parent.localName} holds text where elements were expected`);
  return elements;
}

function onlyChild(parent: Element, name?: string): Element {
  const children = elementChildren(parent);
  if (children.length !== 1) throw new XmlRpcFormatError(`${parent.localName} holds ${children.length} elements, not one`);
  return name === undefined ? (children[0] as Element) : expectName(children[0] as Element, name);
}

function expectName(element: Element, name: string): Element {
  if (element.localName !== name) throw new XmlRpcFormatError(`expected ${name}, found ${element.localName}`);
  return element;
}

/** The text of an element that must hold no element. */
function textOnly(element: Element): string {
  if (contentOf(element).elements.length > 0) throw new XmlRpcFormatError(`${element.localName} holds elements where text was expected`);
  return xmlText(element.textContent ?? '');
}
