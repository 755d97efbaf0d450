/**
 * The portal's count of the SQL statements it has sent (`recharge_database_statements_total` on its
 * /metrics), or null when it does not answer it: a portal from before the metric, so the benchmark
 * still runs against an older commit.
 */
export async function readStatementCount(metricsUrl: string): Promise<number | null> {
  try {
    const response = await fetch(metricsUrl);
    const text = await response.text();
    if (!response.ok) return null;
    const value = /^recharge_database_statements_total (\S+)$/m.exec(text)?.[1];
    return value === undefined ? null : Number(value);
  } catch {
    return null;
  }
}
