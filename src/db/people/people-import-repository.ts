import type { Knex } from 'knex';
import type { ImportedPerson } from '../../domain/people/people-file.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';

export interface PeopleImport {
  id: number;
  status: 'checked' | 'imported';
  fileName: string | null;
  people: ImportedPerson[];
  totalUnits: number;
  checkedAt: Date;
  importedByUsername: string | null;
  importedAt: Date | null;
}

/** Keeps a file that passed its dry run, for the admin to confirm; returns its id. */
export async function insertPeopleImport(
  db: Queryable,
  checked: { fileName: string | null; people: ImportedPerson[]; totalUnits: number; checkedBy: number },
  now: Date,
): Promise<number> {
  const [row] = await db('people_imports')
    .insert({
      status: 'checked',
      file_name: checked.fileName?.slice(0, 200) ?? null,
      people_json: JSON.stringify(checked.people),
      people_count: checked.people.length,
      total_units: checked.totalUnits,
      checked_by: checked.checkedBy,
      checked_at: now.toISOString(),
    })
    .returning('id');
  return toSafeInteger((row as { id: unknown }).id);
}

export async function findPeopleImport(db: Queryable, id: number): Promise<PeopleImport | undefined> {
  const row: Record<string, unknown> | undefined = await db('people_imports')
    .leftJoin('users', 'users.id', 'people_imports.imported_by')
    .where('people_imports.id', id)
    .first('people_imports.*', 'users.username as imported_by_username');
  if (!row) return undefined;
  return {
    id: toSafeInteger(row.id),
    status: row.status as PeopleImport['status'],
    fileName: row.file_name == null ? null : String(row.file_name),
    people: JSON.parse(String(row.people_json)) as ImportedPerson[],
    totalUnits: toSafeInteger(row.total_units),
    checkedAt: toDate(row.checked_at),
    importedByUsername: row.imported_by_username == null ? null : String(row.imported_by_username),
    importedAt: row.imported_at == null ? null : toDate(row.imported_at),
  };
}

/** Marks a checked import as imported; false when it was not checked any more (imported already). */
export async function claimPeopleImport(trx: Knex.Transaction, id: number, importedBy: number, now: Date): Promise<boolean> {
  const changed = await trx('people_imports').where({ id, status: 'checked' }).update({ status: 'imported', imported_by: importedBy, imported_at: now.toISOString() });
  return changed === 1;
}

/** Which of these usernames are taken, asked in slices (databases cap the number of bound values). */
export async function existingUsernames(db: Queryable, usernames: readonly string[]): Promise<Set<string>> {
  const taken = new Set<string>();
  const SLICE = 500;
  for (let start = 0; start < usernames.length; start += SLICE) {
    const rows: Array<{ username: string }> = await db('users').whereIn('username', usernames.slice(start, start + SLICE)).select('username');
    for (const row of rows) taken.add(row.username);
  }
  return taken;
}
