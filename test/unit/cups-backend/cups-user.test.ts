import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cupsUser } from '../../../src/cups-backend/cups-user.js';

describe('CUPS backend: the account CUPS runs printer backends as', () => {
  let folder: string;
  const serverRoot = () => path.join(folder, 'cups');
  const etc = () => path.join(folder, 'etc');
  const userFor = async (conf: string) => {
    await writeFile(path.join(serverRoot(), 'cups-files.conf'), conf);
    return cupsUser(serverRoot(), etc());
  };
  beforeEach(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'recharge-cups-user-'));
    await mkdir(serverRoot());
    await mkdir(etc());
    await writeFile(path.join(etc(), 'passwd'), 'root:x:0:0:root:/root:/bin/bash\nlp:x:7:7:lp:/var/spool/lpd:/usr/sbin/nologin\nprint:x:120:121::/:/usr/sbin/nologin\n');
    await writeFile(path.join(etc(), 'group'), 'root:x:0:\nlp:x:7:\nprint:x:121:\nlpadmin:x:122:\n');
  });
  afterEach(() => rm(folder, { recursive: true, force: true }));

  it('is lp by default, with lp\'s group', async () => {
    expect(await userFor('# nothing set\n')).to.deep.equal({ name: 'lp', uid: 7, gid: 7, warning: null });
  });

  it('reads User and Group as CUPS does: names or numbers, any case, the last line, comments stripped', async () => {
    expect(await userFor('User lp\nuser print # the print service\nGroup lp\nGroup lpadmin\n')).to.deep.equal({ name: 'print', uid: 120, gid: 122, warning: null });
    expect(await userFor('User 120\nGroup 500\n')).to.deep.equal({ name: 'print', uid: 120, gid: 500, warning: null });
    // A uid with no line in passwd, as CUPS takes it.
    expect(await userFor('User 500\nGroup lp\n')).to.deep.equal({ name: '500', uid: 500, gid: 7, warning: null });
  });

  it('never root: User root or 0, or a User or Group it cannot find, leaves lp, as CUPS', async () => {
    expect(await userFor('User root\n')).to.deep.equal({ name: 'lp', uid: 7, gid: 7, warning: 'CUPS does not run backends as root (User root): the printer\'s backend runs as lp' });
    expect(await userFor('User 0\n')).to.deep.include({ uid: 7, gid: 7 });
    expect(await userFor('User nobody-here\n')).to.deep.include({ uid: 7, warning: `the user "nobody-here" is not in ${etc()}/passwd: the printer's backend runs as lp` });
    expect(await userFor('User print\nGroup no-group\n')).to.deep.include({ uid: 7, gid: 7, warning: `the group "no-group" is not in ${etc()}/group: the printer's backend runs as lp` });
  });

  it('says why when lp is not there either: the printer\'s backend is then not run', async () => {
    await writeFile(path.join(etc(), 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
    expect(await userFor('User root\n')).to.deep.equal({ problem: `CUPS does not run backends as root (User root), and the user "lp" is not in ${etc()}/passwd` });
  });
});
