import { CsvError, parse } from 'csv-parse/sync';
import type { Hundredths } from '../ledger/ledger.js';
import { parseAmount, PricingError } from '../pricing/pricing.js';
import { isReservedUsername, normalizeUsername, UserError, validateNewUser, type NewUser, type Role } from './users.js';

/** More would not fit the 1 MB upload anyway, and keeps one import's transaction reasonable. */
export const MAX_IMPORT_PEOPLE = 10_000;

/** One person of a CSV file, validated. */
export interface ImportedPerson {
  /** Where the person is in the file, as a spreadsheet numbers lines (the header is line 1). */
  line: number;
  username: string;
  displayName: string;
  email: string;
  role: Role;
  openingBalance: Hundredths;
}

export type ImportProblemCode =
  | 'not_text'
  | 'syntax'
  | 'no_header'
  | 'missing_column'
  | 'unknown_column'
  | 'repeated_column'
  | 'no_people'
  | 'too_many_people'
  | 'columns'
  | 'username'
  | 'reserved_username'
  | 'duplicate'
  | 'taken'
  | 'name'
  | 'email'
  | 'role'
  | 'balance';

/** What is wrong, where (null: the whole file), with the values the message shows. */
export interface ImportProblem {
  line: number | null;
  code: ImportProblemCode;
  values?: Record<string, string | number>;
}

export interface PeopleFile {
  people: ImportedPerson[];
  problems: ImportProblem[];
}

const COLUMNS = ['username', 'displayName', 'email', 'role', 'openingBalance'] as const;
type Column = (typeof COLUMNS)[number];

/** Header names, lower-case, in English and French: admins export these files from their own tools. */
const COLUMN_NAMES: Record<Column, readonly string[]> = {
  username: ['username', 'login', 'identifiant', "nom d'utilisateur"],
  displayName: ['name', 'display name', 'nom', 'nom complet'],
  email: ['e-mail', 'email', 'mail', 'courriel', 'adresse e-mail'],
  role: ['role', 'rôle'],
  openingBalance: ['opening balance', 'balance', 'solde', 'solde initial', "solde d'ouverture"],
};

const columnNamed = (name: string) => COLUMNS.find((column) => COLUMN_NAMES[column].includes(name.trim().toLowerCase().normalize('NFC')));

/** Shown values are cut short: a problem message quotes a cell, not a whole line. */
const shown = (value: string) => (value.length > 40 ? `${value.slice(0, 40)}…` : value);

/** Excel writes `;` where the decimal separator is a comma (French settings), `,` elsewhere. */
function separatorOf(text: string): ';' | ',' {
  const header = text.slice(0, text.search(/\r|\n|$/));
  return header.split(';').length > header.split(',').length ? ';' : ',';
}

/** UTF-8 only, with or without the BOM Excel writes ("CSV UTF-8"); binary files are not text. */
function decode(bytes: Uint8Array): string | null {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return text.includes('\u0000') ? null : text;
  } catch {
    return null;
  }
}

/**
 * Reads and checks a CSV file of people (username, name, e-mail, role, opening balance) and reports
 * every bad line, each with all its problems. Only the database can say whether a username is taken:
 * the caller adds those problems.
 */
export function readPeopleFile(bytes: Uint8Array): PeopleFile {
  const text = decode(bytes);
  if (text === null) return { people: [], problems: [{ line: null, code: 'not_text' }] };
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    // With `info`, each record comes with where it ends in the file (csv-parse's types do not say so).
    records = parse(text, { delimiter: separatorOf(text), info: true, relax_column_count: true, skip_empty_lines: true, skip_records_with_empty_values: true }) as unknown as typeof records;
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    return { people: [], problems: [{ line: (error as CsvError & { lines?: number }).lines ?? null, code: 'syntax' }] };
  }
  const [header, ...rows] = records;
  if (!header) return { people: [], problems: [{ line: null, code: 'no_header' }] };
  const headerProblems = checkHeader(header.record);
  if (headerProblems.length > 0) return { people: [], problems: headerProblems };
  if (rows.length === 0) return { people: [], problems: [{ line: null, code: 'no_people' }] };
  if (rows.length > MAX_IMPORT_PEOPLE) return { people: [], problems: [{ line: null, code: 'too_many_people', values: { max: MAX_IMPORT_PEOPLE, count: rows.length } }] };

  const columns = header.record.map((name) => columnNamed(name) as Column);
  const people: ImportedPerson[] = [];
  const problems: ImportProblem[] = [];
  const firstLineOf = new Map<string, number>();
  for (const { record, info } of rows) {
    // csv-parse counts the line a record ends on; a quoted cell may span several lines.
    const line = info.lines - record.reduce((breaks, cell) => breaks + (cell.match(/\r\n|\r|\n/g)?.length ?? 0), 0);
    if (record.length !== columns.length) {
      problems.push({ line, code: 'columns', values: { expected: columns.length, found: record.length } });
      continue;
    }
    const cells = Object.fromEntries(columns.map((column, index) => [column, (record[index] ?? '').trim()])) as Record<Column, string>;
    const checked = checkPerson(line, cells);
    if ('problems' in checked) {
      problems.push(...checked.problems);
      continue;
    }
    const firstLine = firstLineOf.get(checked.username);
    if (firstLine !== undefined) {
      problems.push({ line, code: 'duplicate', values: { username: checked.username, line: firstLine } });
      continue;
    }
    firstLineOf.set(checked.username, line);
    people.push(checked);
  }
  return { people, problems };
}

function checkHeader(names: string[]): ImportProblem[] {
  const problems: ImportProblem[] = [];
  const seen = new Set<Column>();
  for (const name of names) {
    const column = columnNamed(name);
    if (!column) problems.push({ line: 1, code: 'unknown_column', values: { name: shown(name) } });
    else if (seen.has(column)) problems.push({ line: 1, code: 'repeated_column', values: { name: shown(name) } });
    else seen.add(column);
  }
  for (const column of COLUMNS) {
    if (!seen.has(column)) problems.push({ line: 1, code: 'missing_column', values: { column } });
  }
  return problems;
}

/** The problem each field of validateNewUser reports; the fields are named like the columns. */
const PROBLEM_OF_FIELD = { username: 'username', displayName: 'name', email: 'email', role: 'role' } as const satisfies Partial<Record<keyof NewUser, ImportProblemCode>>;
type CheckedField = keyof typeof PROBLEM_OF_FIELD;

/** Every problem of one line, in the order of the columns. */
function checkPerson(line: number, cells: Record<Column, string>): ImportedPerson | { problems: ImportProblem[] } {
  const problems: ImportProblem[] = [];
  let person: NewUser | undefined;
  try {
    // An empty role is a plain user: most lines of a year's import are students.
    person = validateNewUser({ ...cells, role: (cells.role === '' ? 'user' : cells.role.toLowerCase()) as Role, locale: null });
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    for (const field of error.fields.filter((name): name is CheckedField => name in PROBLEM_OF_FIELD)) {
      const reserved = field === 'username' && isReservedUsername(normalizeUsername(cells.username));
      problems.push({ line, code: reserved ? 'reserved_username' : PROBLEM_OF_FIELD[field], values: { value: shown(cells[field]) } });
    }
  }
  let openingBalance = 0;
  try {
    if (cells.openingBalance !== '') openingBalance = parseAmount(cells.openingBalance);
  } catch (error) {
    if (!(error instanceof PricingError)) throw error;
    problems.push({ line, code: 'balance', values: { value: shown(cells.openingBalance) } });
  }
  if (!person || problems.length > 0) return { problems };
  return { line, username: person.username, displayName: person.displayName, email: person.email, role: person.role, openingBalance };
}
