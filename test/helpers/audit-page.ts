/** The rows of the audit page's table as text: when, who, action (and label, after `|`), target, changes. */
export function auditRows(html: string): string[][] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((cell) => cell[1]!.replace(/<br>/g, ' | ').replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim()),
  );
}
