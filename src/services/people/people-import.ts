import { recordAudit } from '../../db/audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import { findAccountByUserId, getAccountByCode, postTransaction } from '../../db/ledger/ledger-repository.js';
import { claimPeopleImport, existingUsernames, findPeopleImport, insertPeopleImport } from '../../db/people/people-import-repository.js';
import { insertUser } from '../../db/people/user-repository.js';
import type { AuditRecord } from '../../domain/audit/audit.js';
import type { Clock } from '../../domain/time/clock.js';
import { DomainError } from '../../domain/shared/errors.js';
import { LedgerError, SystemAccount } from '../../domain/ledger/ledger.js';
import { readPeopleFile, type ImportProblem } from '../../domain/people/people-file.js';
import { UserError } from '../../domain/people/users.js';

export type PeopleImportErrorCode = 'import_not_found' | 'already_imported' | 'username_taken';

export class PeopleImportError extends DomainError<PeopleImportErrorCode> {
  constructor(
    code: PeopleImportErrorCode,
    message: string,
    /** For username_taken: who was created since the dry run. */
    readonly username: string | null = null,
  ) {
    super(code, message);
  }
}

export type DryRun = { importId: number; problems: [] } | { importId: null; problems: ImportProblem[] };

/** The key of one person's opening balance: each import credits each of its people once. */
export const openingBalanceKey = (importId: number, username: string) => `people-import:${importId}:${username}`;

/**
 * Bulk import of people from CSV in two steps. The dry run checks every line and keeps a clean file
 * server-side; the confirmation imports exactly that, once, in one database transaction: the people
 * (without a password: they cannot log in until an admin sets one), their accounts, their opening
 * balances (from `system:adjustments`, naming the admin) and one audit row. Anything failing imports nothing.
 */
export function createPeopleImports({ db, clock }: { db: Database; clock: Clock }) {
  return {
    async dryRun(actor: AuditRecord['actor'], file: { bytes: Uint8Array; name: string | null }): Promise<DryRun> {
      const { people, problems } = readPeopleFile(file.bytes);
      const taken = await existingUsernames(db.knex, people.map((person) => person.username));
      for (const person of people.filter((candidate) => taken.has(candidate.username))) {
        problems.push({ line: person.line, code: 'taken', values: { username: person.username } });
      }
      if (problems.length > 0) return { importId: null, problems: problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)) };
      const totalUnits = people.reduce((total, person) => total + person.openingBalance, 0);
      return { importId: await insertPeopleImport(db.knex, { fileName: file.name, people, totalUnits, checkedBy: actor.id }, clock.now()), problems: [] };
    },

    /** `description` names the opening balances in people's histories (in the admin's language). */
    async confirm(actor: AuditRecord['actor'], importId: number, description: string): Promise<{ count: number; totalUnits: number }> {
      const now = clock.now();
      return db.transaction(async (trx) => {
        const checked = await findPeopleImport(trx, importId);
        if (!checked) throw new PeopleImportError('import_not_found', `no import ${importId}`);
        if (!(await claimPeopleImport(trx, importId, actor.id, now))) throw new PeopleImportError('already_imported', `import ${importId} was already imported`);
        const system = await getAccountByCode(trx, SystemAccount.adjustments);
        for (const person of checked.people) {
          const user = await insertUser(trx, { ...person, locale: null, passwordHash: null }, now).catch((error: unknown) => {
            if (error instanceof UserError && error.code === 'username_taken') {
              throw new PeopleImportError('username_taken', `${person.username} was created since the dry run`, person.username);
            }
            throw error;
          });
          if (person.openingBalance === 0) continue;
          const account = await findAccountByUserId(trx, user.id);
          if (!account) throw new LedgerError('account_not_found', `user ${user.id} has no account`);
          await postTransaction(
            trx,
            {
              idempotencyKey: openingBalanceKey(importId, person.username),
              kind: 'adjustment',
              lines: [
                { accountId: account.id, amount: person.openingBalance },
                { accountId: system.id, amount: -person.openingBalance },
              ],
              description,
              createdBy: actor.id,
            },
            now,
          );
        }
        const summary = { count: checked.people.length, totalUnits: checked.totalUnits };
        // Roles granted by a file are what an audit must show: who became admin or IT.
        const privileged = checked.people.filter((person) => person.role !== 'user').map((person) => `${person.username} (${person.role})`);
        await recordAudit(trx, { actor, action: 'people.import', target: `import ${importId}`, before: null, after: { importId, ...summary, privileged } }, now);
        return summary;
      });
    },
  };
}

export type PeopleImports = ReturnType<typeof createPeopleImports>;
