import { hundredthsOf } from '../amounts.js';
import { XmlRpcDouble, type XmlRpcCall, type XmlRpcFault, type XmlRpcValue } from '../xml-rpc.js';
import type { SimulatedAccounts } from './accounts.js';

/**
 * PaperCut's faults as its servers send them. Confirmed: 262 "User cannot be found" (PaperCutExamples
 * wiki, "WebServices Error Codes", 19.2+), the refused address's text (PaperCutExamples issue #32), and
 * -1 with Java's NoSuchMethodException for a wrong signature (issue #21). Not confirmed, and the
 * client does not depend on them: the codes of the two refusals and the bad token's wording.
 */
export const PAPERCUT_FAULTS = {
  unknownUser: { faultCode: 262, faultString: 'User cannot be found' },
  notAllowed: { faultCode: 257, faultString: 'Access denied. Your IP address is not allowed to access the Web Services API.' },
  badToken: { faultCode: 257, faultString: 'Access denied. Invalid authentication token.' },
} as const satisfies Record<string, XmlRpcFault>;

type ParamType = 'string' | 'double';
/** The Java signatures of PaperCut's handler, the token first; the account name may be left out. */
const SIGNATURES: Record<string, ParamType[][]> = {
  'api.isUserExists': [['string', 'string']],
  'api.getUserAccountBalance': [
    ['string', 'string'],
    ['string', 'string', 'string'],
  ],
  'api.adjustUserAccountBalance': [
    ['string', 'string', 'double', 'string'],
    ['string', 'string', 'double', 'string', 'string'],
  ],
};

export type ApiOutcome = { kind: 'value'; value: XmlRpcValue; applied: boolean } | { kind: 'fault'; fault: XmlRpcFault };

export interface ApiContext {
  accounts: SimulatedAccounts;
  authToken: string;
  now: () => Date;
  /** Whether the person counts as unknown for this call (the `unknown_user` fault). */
  hidesUser: boolean;
  refusesToken: boolean;
}

/** Runs one call as PaperCut's web services handler does: signature, then token, then the method. */
export function runCall({ method, params }: XmlRpcCall, context: ApiContext): ApiOutcome {
  const signatures = SIGNATURES[method];
  if (!signatures?.some((signature) => signature.length === params.length && signature.every((type, index) => matches(params[index] as XmlRpcValue, type)))) {
    return fault({ faultCode: -1, faultString: `java.lang.NoSuchMethodException: biz.papercut.pcng.webservices.xmlrpc.ApiRPCHandler.${method.replace(/^api\./, '')}(${params.map(javaType).join(', ')})` });
  }
  const [token, username, ...rest] = params as [string, string, ...XmlRpcValue[]];
  if (context.refusesToken || token !== context.authToken) return fault(PAPERCUT_FAULTS.badToken);
  const { accounts } = context;
  const exists = accounts.exists(username) && !context.hidesUser;
  if (method === 'api.isUserExists') return { kind: 'value', value: exists, applied: false };
  if (!exists) return fault(PAPERCUT_FAULTS.unknownUser);

  if (method === 'api.getUserAccountBalance') {
    const accountName = (rest[0] as string | undefined) ?? '';
    const balance = accounts.balance(username, accountName);
    if (balance === undefined) return fault(unknownAccount(accountName));
    return { kind: 'value', value: new XmlRpcDouble(javaDoubleText(balance)), applied: false };
  }
  const [amount, comment, accountName = ''] = rest as [XmlRpcDouble, string, string?];
  if (accounts.balance(username, accountName) === undefined) return fault(unknownAccount(accountName));
  const hundredths = hundredthsOf(amount);
  if (hundredths === null) return fault({ faultCode: 275, faultString: 'Balance value not valid' });
  accounts.adjust(username, accountName, hundredths, comment, context.now());
  return { kind: 'value', value: true, applied: true };
}

const fault = (answer: XmlRpcFault): ApiOutcome => ({ kind: 'fault', fault: { ...answer } });

/** The simulator's wording: PaperCut's for a personal account that does not exist is not confirmed. */
const unknownAccount = (accountName: string): XmlRpcFault => ({ faultCode: 257, faultString: `Personal account not found: ${accountName}` });

function matches(value: XmlRpcValue, type: ParamType): boolean {
  return type === 'string' ? typeof value === 'string' : value instanceof XmlRpcDouble;
}

function javaType(value: XmlRpcValue): string {
  if (typeof value === 'string') return 'java.lang.String';
  if (typeof value === 'number') return 'java.lang.Integer';
  if (typeof value === 'boolean') return 'java.lang.Boolean';
  if (value instanceof XmlRpcDouble) return 'java.lang.Double';
  return Array.isArray(value) ? '[Ljava.lang.Object;' : 'java.util.HashMap';
}

/**
 * An amount as Java's Double.toString writes it, which PaperCut's answers carry: "12.5", "-3.0", and
 * from ten million on the exponent form "1.2345678E7".
 */
export function javaDoubleText(hundredths: number): string {
  const value = hundredths / 100;
  if (Math.abs(value) >= 1e7) {
    const [mantissa = '', exponent = ''] = value.toExponential().split('e');
    return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${exponent.replace('+', '')}`;
  }
  const text = String(value);
  return text.includes('.') ? text : `${text}.0`;
}
