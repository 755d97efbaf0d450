/** What a person can recognise a session by on "Mon compte": the browser and the operating system, without versions. */
export interface DeviceDescription {
  browser: string | null;
  system: string | null;
}

/**
 * First match wins, so the order matters: Chromium-based browsers also say "Chrome" and "Safari", Chrome
 * on Android says "Safari" too, and only Safari itself says "Version/… Safari/".
 */
const BROWSERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\b(?:OPR|Opera)\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\b(?:Firefox|FxiOS)\//, 'Firefox'],
  [/(?:\b|Headless)(?:Chrome|Chromium|CriOS)\//, 'Chrome'],
  [/\bVersion\/\S+ (?:Mobile\/\S+ )?Safari\//, 'Safari'],
  [/\bTrident\/|\bMSIE /, 'Internet Explorer'],
];

/** iPhones and Android devices also say "Mac OS X" and "Linux": they come first. */
const SYSTEMS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bWindows\b/, 'Windows'],
  [/\bAndroid\b/, 'Android'],
  [/\biPad\b/, 'iPadOS'],
  [/\b(?:iPhone|iPod)\b/, 'iOS'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bMacintosh\b|\bMac OS X\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
];

const firstMatch = (table: ReadonlyArray<readonly [RegExp, string]>, userAgent: string) => table.find(([pattern]) => pattern.test(userAgent))?.[1] ?? null;

/** The browser and system a User-Agent header names; null for what it does not name (or no header). */
export function describeDevice(userAgent: string | null | undefined): DeviceDescription {
  if (!userAgent) return { browser: null, system: null };
  return { browser: firstMatch(BROWSERS, userAgent), system: firstMatch(SYSTEMS, userAgent) };
}
