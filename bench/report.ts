import type { Measurement } from './measurement.js';

const fixed = (value: number | null, digits: number) => (value !== null && Number.isFinite(value) ? value.toFixed(digits) : '—');

/**
 * The figures as a Markdown table (pasted as is into docs/benchmarks.md): throughput and latency of
 * each target, how it compares with the baseline (a bare Express + EJS page measured in the same run:
 * its share of the baseline's rate, how many times the baseline's median latency it takes), and the
 * CPU time and database statements it costs the process that answers.
 */
export function formatTable(measurements: readonly Measurement[], baseline: Measurement): string {
  const header = ['Target', 'Rate (/s)', 'p50 (ms)', 'p99 (ms)', 'Bytes/answer', 'Rate ÷ base', 'p50 ÷ base', 'CPU ms/answer', 'Statements/answer', 'Completed', 'Failures'];
  const rows = measurements.map((measurement) => [
    measurement.name,
    fixed(measurement.rate, 1),
    fixed(measurement.p50Ms, 1),
    fixed(measurement.p99Ms, 1),
    fixed(measurement.bytes, 0),
    fixed(measurement.rate / baseline.rate, 3),
    fixed(measurement.p50Ms / baseline.p50Ms, 1),
    fixed(measurement.cpuMsPerAnswer, 2),
    fixed(measurement.statementsPerAnswer, 1),
    String(measurement.completed),
    measurement.failures === 0 ? '0' : `${measurement.failures} (${measurement.failureNote})`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  // Names and failures read left to right, figures line up on the right.
  const isText = (column: number) => column === 0 || column === header.length - 1;
  const line = (cells: string[]) => `| ${cells.map((cell, column) => (isText(column) ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (isText(column) ? `:${'-'.repeat(width + 1)}` : `${'-'.repeat(width + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

const times = (value: number | null, reference: number | null) => (value === null || reference === null ? '—' : `×${fixed(value / reference, 2)}`);

/** How `measurement` compares with `reference` (each figure over the reference's): CPU, statements, rate and median latency. */
export function formatComparison(measurement: Measurement, reference: Measurement): string {
  return (
    `${measurement.name} against ${reference.name}: CPU ms/answer ${times(measurement.cpuMsPerAnswer, reference.cpuMsPerAnswer)}, ` +
    `statements/answer ${times(measurement.statementsPerAnswer, reference.statementsPerAnswer)}, rate ${times(measurement.rate, reference.rate)}, p50 ${times(measurement.p50Ms, reference.p50Ms)}`
  );
}
