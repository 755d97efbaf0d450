import { post } from '../http-post.js';
import { PrintSystemError, type PrintSystemFaultReason } from '../print-system-error.js';
import { hundredthsOf, paperCutAmount } from './amounts.js';
import { decodeMethodResponse, encodeMethodCall, xmlDocumentText, XmlRpcDouble, XmlRpcFormatError, type XmlRpcFault, type XmlRpcResponse, type XmlRpcValue } from './xml-rpc.js';

export interface PaperCutClientOptions {
  /** PaperCut's XML-RPC endpoint (`https://print.example.edu:9192/rpc/api/xmlrpc`); a bare server URL gets PaperCut's path. */
  url: string;
  /** The web services token (advanced config key `auth.webservices.auth-token`). */
  authToken: string;
  /** For each call, from connecting to the answer's last byte. */
  timeoutMs: number;
  /**
   * The person's personal account to credit and read, when PaperCut has multiple personal accounts
   * (the user methods' `accountName`). Empty or absent: the built-in account (the total, for reading).
   */
  accountName?: string;
}

/**
 * PaperCut NG/MF's web services for one account of each person. Every failure is a PrintSystemError
 * whose kind says whether an adjustment can have been applied (see print-system-error.ts).
 */
export interface PaperCutClient {
  userExists(username: string): Promise<boolean>;
  /** The balance in hundredths, rounded to the nearest hundredth (amounts.ts). */
  balance(username: string): Promise<number>;
  /**
   * Adds (or, negative, takes) `amountHundredths` to the person's account, with `comment` in PaperCut's
   * transaction log. Not idempotent: after an `unknown_outcome` it must not be sent again blindly.
   */
  adjust(username: string, amountHundredths: number, comment: string): Promise<void>;
}

const XML_RPC_PATH = '/rpc/api/xmlrpc';
/** PaperCut's answers to these calls are a few hundred bytes; a fault's text a few more. */
const MAX_ANSWER_BYTES = 64 * 1024;

export function createPaperCutClient(options: PaperCutClientOptions): PaperCutClient {
  const endpoint = endpointOf(options.url);
  if (options.authToken === '') throw new Error('the PaperCut web services token is empty');
  if (!Number.isInteger(options.timeoutMs) || options.timeoutMs <= 0) throw new Error(`the PaperCut timeout must be a positive number of milliseconds, not ${options.timeoutMs}`);
  const accountName = options.accountName ?? '';

  const call = async (method: string, params: XmlRpcValue[]): Promise<XmlRpcValue> => {
    let body: Buffer;
    try {
      body = Buffer.from(encodeMethodCall(method, [options.authToken, ...params]), 'utf8');
    } catch (error) {
      // Nothing was sent: a worker must park this (what it asked cannot be written), never retry it.
      if (!(error instanceof XmlRpcFormatError)) throw error;
      throw new PrintSystemError('definite_fault', `${method}: the call cannot be written (${error.message})`, { reason: 'refused' });
    }
    const answer = await post(endpoint, {
      headers: { 'Content-Type': 'text/xml; charset=utf-8', Accept: 'text/xml', 'User-Agent': 'Recharge' },
      body,
      timeoutMs: options.timeoutMs,
      maxResponseBytes: MAX_ANSWER_BYTES,
    });
    // Only a redirect or a client error that by its meaning comes before the call runs (wrong path,
    // refused credentials, a request the server would not read) says nothing was applied. Any other
    // status may come from a proxy after PaperCut answered (a gateway rewriting the answer, a 5xx):
    // the call may have run.
    if (answer.status >= 300 && NOT_RUN_STATUSES.has(answer.status)) {
      const location = answer.headers.location ? ` to ${answer.headers.location}` : '';
      // A wrong URL, a redirect to https, a proxy's refusal: the setup to mend, after which the same call goes through.
      throw new PrintSystemError('definite_fault', `${method}: HTTP ${answer.status}${location}, the call was not run`, { reason: 'access_denied', httpStatus: answer.status });
    }
    if (answer.status >= 300) throw new PrintSystemError('unknown_outcome', `${method}: HTTP ${answer.status} after the request was sent`, { httpStatus: answer.status });
    let response: XmlRpcResponse;
    try {
      response = decodeMethodResponse(xmlDocumentText(answer.body));
    } catch (error) {
      if (!(error instanceof XmlRpcFormatError)) throw error;
      throw new PrintSystemError('unknown_outcome', `${method}: unreadable answer (${error.message})`, { httpStatus: answer.status });
    }
    if (!response.ok) throw faultError(method, response.fault);
    return response.value;
  };

  return {
    async userExists(username) {
      const exists = await call('api.isUserExists', [username]);
      if (typeof exists !== 'boolean') throw unexpected('api.isUserExists', 'a boolean');
      return exists;
    },

    async balance(username) {
      const balance = await call('api.getUserAccountBalance', [username, accountName]);
      const hundredths = balance instanceof XmlRpcDouble ? hundredthsOf(balance) : typeof balance === 'number' ? balance * 100 : null;
      if (hundredths === null) throw unexpected('api.getUserAccountBalance', 'an amount');
      return hundredths;
    },

    async adjust(username, amountHundredths, comment) {
      // Beyond ±10¹¹ hundredths the amount's text has more digits than PaperCut's double keeps.
      if (!Number.isSafeInteger(amountHundredths) || amountHundredths === 0 || Math.abs(amountHundredths) > MAX_ADJUSTMENT_HUNDREDTHS) {
        throw new PrintSystemError('definite_fault', `an adjustment is a non-zero whole number of hundredths up to ${MAX_ADJUSTMENT_HUNDREDTHS}, not ${amountHundredths}`, { reason: 'refused' });
      }
      // PaperCut's reply value is not documented (its own Java client ignores it): any answer but a fault is success.
      await call('api.adjustUserAccountBalance', [username, paperCutAmount(amountHundredths), comment, accountName]);
    },
  };
}

function endpointOf(text: string): URL {
  if (!URL.canParse(text)) throw new Error(`the PaperCut URL ${JSON.stringify(text)} is not a URL`);
  const url = new URL(text);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`the PaperCut URL must be http or https, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw new Error('the PaperCut URL must not carry credentials: the token authenticates');
  if (url.pathname === '/') url.pathname = XML_RPC_PATH;
  return url;
}

/**
 * A fault is PaperCut's answer that the call failed, so nothing was applied. Since 19.2 the code names
 * the cause (262: user cannot be found); older servers send only the exception's text. The token's and
 * the address's refusals are told by their text ("Access denied. Your IP address is not allowed…").
 */
function faultError(method: string, fault: XmlRpcFault): PrintSystemError {
  return new PrintSystemError('definite_fault', `${method}: PaperCut refused the call: ${fault.faultString.slice(0, 300)} (fault ${fault.faultCode})`, {
    reason: faultReason(fault),
    faultCode: fault.faultCode,
    faultString: fault.faultString.slice(0, 1000),
  });
}

const UNKNOWN_USER_CODE = 262;

/** HTTP statuses a web server or proxy answers before the request reaches the application. */
const NOT_RUN_STATUSES: ReadonlySet<number> = new Set([300, 301, 302, 303, 307, 308, 400, 401, 403, 404, 405, 407, 411, 413, 414, 415, 417, 426, 431]);

const MAX_ADJUSTMENT_HUNDREDTHS = 100_000_000_000;

function faultReason({ faultCode, faultString }: XmlRpcFault): PrintSystemFaultReason {
  if (faultCode === UNKNOWN_USER_CODE || /\buser\b.*\b(cannot be found|not found|does not exist|doesn't exist|unknown)\b|\b(unknown|no such) user\b/i.test(faultString)) {
    return 'unknown_user';
  }
  if (/access denied|not allowed|not authori[sz]ed|auth(entication)?[- ]?token|web services? (api )?(is |are )?disabled/i.test(faultString)) return 'access_denied';
  return 'refused';
}

function unexpected(method: string, expected: string): PrintSystemError {
  return new PrintSystemError('unknown_outcome', `${method}: the answer is not ${expected}`);
}
