/**
 * A strict reader of Prometheus's text exposition format (version 0.0.4, what prom-client writes and
 * Prometheus scrapes): every line must be a HELP, a TYPE, a comment or a sample of the grammar, each
 * family's TYPE must come before its samples, a family's samples must stand together, and no sample
 * may repeat. Throws on the first line that breaks a rule; returns the samples to look values up.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
  /** The value of the one sample with this name and these labels (others ignored), or undefined. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"';
/** As Go's ParseFloat reads it (which Prometheus uses): NaN and Inf in any case (prom-client writes `Nan`). */
const NUMBER = '[-+]?(?:\\d+\\.?\\d*(?:[eE][-+]?\\d+)?|\\.\\d+(?:[eE][-+]?\\d+)?|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])';
const SAMPLE_LINE = new RegExp(`^(${METRIC_NAME})(?:\\{((?:${LABEL}(?:,${LABEL})*,?)?)\\})? (${NUMBER})(?: -?\\d+)?$`);
const LABEL_PAIR = new RegExp(LABEL, 'g');
const TYPE_LINE = new RegExp(`^# TYPE (${METRIC_NAME}) (counter|gauge|histogram|summary|untyped)$`);
const HELP_LINE = new RegExp(`^# HELP (${METRIC_NAME}) (?:[^\\\\\\n]|\\\\[\\\\n])*$`);
const SUFFIXES: Record<string, readonly string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count', ''] };

const unescape = (text: string) => text.replace(/\\(.)/g, (_all, character: string) => (character === 'n' ? '\n' : character));

function familyOf(name: string, types: Map<string, string>): string {
  for (const [family, type] of types) {
    for (const suffix of SUFFIXES[type] ?? ['']) if (name === `${family}${suffix}`) return family;
  }
  throw new Error(`sample ${name} has no TYPE line before it`);
}

export function parseExposition(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a line break');
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  const finished = new Set<string>();
  let current: string | null = null;
  for (const [index, line] of text.slice(0, -1).split('\n').entries()) {
    const where = `line ${index + 1}: ${line}`;
    if (line === '') continue;
    const type = TYPE_LINE.exec(line);
    if (type) {
      if (types.has(type[1]!)) throw new Error(`second TYPE for ${type[1]} at ${where}`);
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('# HELP ')) {
      if (!HELP_LINE.test(line)) throw new Error(`malformed HELP at ${where}`);
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = SAMPLE_LINE.exec(line);
    if (!sample) throw new Error(`malformed sample at ${where}`);
    const name = sample[1]!;
    const family = familyOf(name, types);
    if (family !== current) {
      if (finished.has(family)) throw new Error(`the samples of ${family} are not together, at ${where}`);
      if (current) finished.add(current);
      current = family;
    }
    const labels = Object.fromEntries([...(sample[2] ?? '').matchAll(LABEL_PAIR)].map((pair) => [pair[1]!, unescape(pair[2]!)]));
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`repeated sample at ${where}`);
    seen.add(key);
    const raw = sample[sample.length - 1]!;
    const special = /^([-+]?)inf/i.exec(raw);
    samples.push({ name, labels, value: special ? (special[1] === '-' ? -Infinity : Infinity) : /nan/i.test(raw) ? NaN : Number(raw) });
  }
  return {
    types,
    samples,
    value: (name, labels = {}) =>
      samples.find((sample) => sample.name === name && Object.keys(labels).length === Object.keys(sample.labels).length && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))?.value,
  };
}
