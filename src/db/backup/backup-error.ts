import { DomainError } from '../../domain/shared/errors.js';

export type BackupRefusal = 'target_exists' | 'no_folder' | 'no_database' | 'copy_damaged' | 'pg_dump_missing' | 'pg_dump_too_old';

/** A backup that was not made (or, for PostgreSQL, a pg_dump that cannot make it); the message says why. */
export class BackupError extends DomainError<BackupRefusal> {}

export const targetExists = (target: string) => new BackupError('target_exists', `${target} already exists: a backup never replaces a file; choose another name`);
