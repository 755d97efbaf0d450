import { expect } from 'chai';
import { normalizeUsername, refuseSelfLockout, UserError, validateNewUser, validatePassword, validateRole } from '../../src/domain/people/users.js';

const valid = { username: ' Camille.Martin@Example.edu ', displayName: 'Camille Martin', email: 'camille@example.edu', role: 'user' as const };

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).to.be.instanceOf(UserError);
    return `${(error as UserError).code}: ${(error as Error).message}`;
  }
  throw new Error('expected a refusal');
}

describe('user rules', () => {
  it('compares usernames without case or surrounding spaces', () => {
    expect(normalizeUsername(' Etudiant ')).to.equal('etudiant');
    expect(validateNewUser(valid).username).to.equal('camille.martin@example.edu');
  });

  it('folds compatibility look-alikes as directories do, so a full-width username is the same username', () => {
    expect(normalizeUsername('ａｄｕｐｏｎｔ')).to.equal('adupont');
    expect(normalizeUsername('ＡＤＭＩＮ')).to.equal('admin');
  });

  it('names each bad field of a new user', () => {
    expect(codeOf(() => validateNewUser({ ...valid, username: 'a b' }))).to.match(/^invalid_user: username: /);
    expect(codeOf(() => validateNewUser({ ...valid, email: 'nope' }))).to.match(/email: is not a valid e-mail/);
    expect(codeOf(() => validateNewUser({ ...valid, displayName: '  ' }))).to.match(/displayName: is required/);
    expect(codeOf(() => validateNewUser({ ...valid, role: 'root' as 'user' }))).to.match(/role: must be one of user, admin, it/);
    expect(codeOf(() => validateRole('root'))).to.match(/^invalid_user: role must be one of/);
  });

  it('keeps closed-<number> for anonymised accounts, whatever the case or width it is typed in', () => {
    for (const username of ['closed-12', 'Closed-7', ' CLOSED-0 ', 'ｃｌｏｓｅｄ-３']) {
      expect(codeOf(() => validateNewUser({ ...valid, username }))).to.match(/^invalid_user: username: closed-<number> is kept for anonymised accounts/);
    }
    for (const username of ['closed', 'closed-', 'closed-12a', 'closed-x', 'unclosed-12', 'closed.12']) expect(validateNewUser({ ...valid, username }).username).to.equal(username);
  });

  it('accepts passwords of 8 to 1024 characters, counted as characters, never truncated', () => {
    expect(codeOf(() => validatePassword('1234567'))).to.match(/^invalid_password/);
    const unicode = '🔑é'.repeat(32); // 64 characters, 96 UTF-16 code units
    expect(validatePassword(unicode)).to.equal(unicode);
    expect(validatePassword('x'.repeat(1024))).to.have.length(1024);
    expect(codeOf(() => validatePassword('x'.repeat(1025)))).to.match(/^invalid_password/);
  });

  it('lists the bad fields of a new user, so that a form or an import line can name them', () => {
    try {
      validateNewUser({ ...valid, username: 'a b', email: 'nope', role: 'root' as 'user' });
      expect.fail('expected a refusal');
    } catch (error) {
      expect((error as UserError).fields).to.deep.equal(['username', 'email', 'role']);
    }
  });

  it('lets nobody lock themself out: an admin cannot disable themself nor drop their admin role', () => {
    const admin = { id: 1 };
    const other = { id: 2 };
    expect(codeOf(() => refuseSelfLockout(admin, admin, { disabled: true }))).to.match(/^own_access: /);
    for (const role of ['user', 'it'] as const) expect(codeOf(() => refuseSelfLockout(admin, admin, { role }))).to.match(/^own_role: /);
    for (const change of [{ disabled: false }, { role: 'admin' as const }, { passwordHash: 'x' }]) expect(() => refuseSelfLockout(admin, admin, change)).not.to.throw();
    for (const change of [{ disabled: true }, { role: 'user' as const }]) expect(() => refuseSelfLockout(admin, other, change)).not.to.throw();
  });
});
