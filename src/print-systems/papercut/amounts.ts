import { decimalText } from '../../domain/shared/decimal.js';
import { XmlRpcDouble } from './xml-rpc.js';

/**
 * PaperCut counts balances in its currency as doubles; the portal counts hundredths of a unit, one
 * unit being one of PaperCut's currency units. An amount is sent as its exact decimal text ("-12.50"),
 * which Java reads as the nearest double, as PaperCut's own clients send it.
 */
export function paperCutAmount(hundredths: number): XmlRpcDouble {
  if (!Number.isSafeInteger(hundredths)) throw new RangeError(`${hundredths} is not a whole number of hundredths`);
  return new XmlRpcDouble(decimalText(hundredths));
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
/** Longer than any double Java writes (17 significant digits, a sign, a point, an exponent). */
const MAX_TEXT_LENGTH = 40;

/**
 * The hundredths nearest to the double PaperCut sent, read from its decimal text without binary floating
 * point: "12.299999999999999" (how a double may carry 12.30) is 1230. Halves are rounded away from zero:
 * a balance with finer fractions (PaperCut may charge 0.045 a page) is shown to the nearest hundredth.
 * Null when the text is no number or the amount does not fit a safe integer.
 */
export function hundredthsOf(double: XmlRpcDouble): number | null {
  const match = DECIMAL.exec(double.text);
  if (!match || double.text.length > MAX_TEXT_LENGTH) return null;
  const [, sign, whole = '', fraction = '', exponent = '0'] = match;
  const digits = BigInt(`${whole}${fraction}` || '0');
  // The value is digits × 10^power; in hundredths, × 10^(power + 2).
  const shift = Number(exponent) - fraction.length + 2;
  let magnitude: bigint;
  if (shift >= 0) {
    if (digits !== 0n && shift > 16) return null;
    magnitude = digits * 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    magnitude = digits / divisor + (2n * (digits % divisor) >= divisor ? 1n : 0n);
  }
  if (magnitude > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  const hundredths = Number(magnitude);
  return sign === '-' && hundredths !== 0 ? -hundredths : hundredths;
}
