import { expect } from 'chai';
import fc from 'fast-check';
import { MAX_IMPORT_PEOPLE, readPeopleFile, type ImportProblem } from '../../src/domain/people/people-file.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const read = (text: string) => readPeopleFile(bytes(text));
const problems = (text: string) => read(text).problems.map(({ line, code, values }: ImportProblem) => ({ line, code, ...(values ? { values } : {}) }));

const HEADER = 'username,name,e-mail,role,opening balance';

describe('CSV files of people', () => {
  it('reads what Excel writes in French: a BOM, semicolons, CRLF, decimal commas, quoted cells', () => {
    const file = new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('Identifiant;Nom;Courriel;Rôle;Solde initial\r\nAlice.Martin;"Martin; Alice";alice@example.edu;user;12,50\r\nbob;Bob;bob@example.edu;IT;\r\n\r\n')]);
    expect(readPeopleFile(file)).to.deep.equal({
      people: [
        { line: 2, username: 'alice.martin', displayName: 'Martin; Alice', email: 'alice@example.edu', role: 'user', openingBalance: 1250 },
        { line: 3, username: 'bob', displayName: 'Bob', email: 'bob@example.edu', role: 'it', openingBalance: 0 },
      ],
      problems: [],
    });
  });

  it('reads commas, columns in any order, an empty role as user, and skips blank lines', () => {
    const { people, problems: found } = read(`role,e-mail,username,opening balance,name\n\n,c@example.edu,carol,3.5,"Carol, C."\n,,,,\nadmin,d@example.edu,dan,0,Dan\n`);
    expect(found).to.deep.equal([]);
    expect(people).to.deep.equal([
      { line: 3, username: 'carol', displayName: 'Carol, C.', email: 'c@example.edu', role: 'user', openingBalance: 350 },
      { line: 5, username: 'dan', displayName: 'Dan', email: 'd@example.edu', role: 'admin', openingBalance: 0 },
    ]);
  });

  it('reports every bad line with its number, each with all its problems, and keeps none of them', () => {
    const file = [
      HEADER,
      'good,Good,good@example.edu,user,1',
      'bad name!,Bad,bad@example.edu,user,1',
      'mail,Mail,not-an-email,user,1',
      'role,Role,role@example.edu,root,1',
      'minus,Minus,minus@example.edu,user,-5',
      'exp,Exp,exp@example.edu,user,1e3',
      'abc,Abc,abc@example.edu,user,abc',
      'Good,Again,again@example.edu,user,1',
      'short,Short',
      'multi,"Two',
      'lines",multi@example.edu,superuser,x',
      ',,nobody@example.edu,,',
    ].join('\n');
    expect(problems(file)).to.deep.equal([
      { line: 3, code: 'username', values: { value: 'bad name!' } },
      { line: 4, code: 'email', values: { value: 'not-an-email' } },
      { line: 5, code: 'role', values: { value: 'root' } },
      { line: 6, code: 'balance', values: { value: '-5' } },
      { line: 7, code: 'balance', values: { value: '1e3' } },
      { line: 8, code: 'balance', values: { value: 'abc' } },
      { line: 9, code: 'duplicate', values: { username: 'good', line: 2 } },
      { line: 10, code: 'columns', values: { expected: 5, found: 2 } },
      { line: 11, code: 'role', values: { value: 'superuser' } },
      { line: 11, code: 'balance', values: { value: 'x' } },
      { line: 13, code: 'username', values: { value: '' } },
      { line: 13, code: 'name', values: { value: '' } },
    ]);
  });

  it('refuses the usernames kept for anonymised accounts with a problem of their own', () => {
    expect(problems(`${HEADER}\nClosed-12,Camille,camille@example.edu,,\nclosed-12b,Léo,leo@example.edu,,`)).to.deep.equal([{ line: 2, code: 'reserved_username', values: { value: 'Closed-12' } }]);
  });

  it('checks the header: missing, unknown and repeated columns', () => {
    expect(problems('username;nom;email;mail;colour\na;b;c;d;e')).to.deep.equal([
      { line: 1, code: 'repeated_column', values: { name: 'mail' } },
      { line: 1, code: 'unknown_column', values: { name: 'colour' } },
      { line: 1, code: 'missing_column', values: { column: 'role' } },
      { line: 1, code: 'missing_column', values: { column: 'openingBalance' } },
    ]);
  });

  it('refuses files that are not CSV text, empty files, headers alone, broken quotes and too many people', () => {
    expect(readPeopleFile(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff]))).to.deep.equal({ people: [], problems: [{ line: null, code: 'not_text' }] });
    expect(problems('a,b\u0000')).to.deep.equal([{ line: null, code: 'not_text' }]);
    expect(readPeopleFile(new Uint8Array([0x63, 0x61, 0x66, 0xe9]))).to.deep.include({ problems: [{ line: null, code: 'not_text' }] });
    expect(problems('')).to.deep.equal([{ line: null, code: 'no_header' }]);
    expect(problems(`${HEADER}\n\n`)).to.deep.equal([{ line: null, code: 'no_people' }]);
    expect(problems(`${HEADER}\nok,"Unclosed,ok@example.edu,user,1\n`)).to.deep.equal([{ line: 2, code: 'syntax' }]);
    const rows = Array.from({ length: MAX_IMPORT_PEOPLE + 1 }, (_, index) => `p${index},P,p${index}@example.edu,user,1`);
    expect(problems([HEADER, ...rows].join('\n'))).to.deep.equal([{ line: null, code: 'too_many_people', values: { max: MAX_IMPORT_PEOPLE, count: MAX_IMPORT_PEOPLE + 1 } }]);
    expect(read([HEADER, ...rows.slice(1)].join('\n')).people).to.have.length(MAX_IMPORT_PEOPLE);
  });

  it('reads back any list of valid people, with either separator', () => {
    const person = fc.record({
      username: fc.stringMatching(/^[a-z0-9][a-z0-9._@+-]{0,20}$/),
      displayName: fc.stringMatching(/^[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ ,;'"-]{0,30}[A-Za-zÀ-ÿ]$/),
      role: fc.constantFrom('user', 'admin', 'it'),
      openingBalance: fc.integer({ min: 0, max: 999_999_999 }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(person, { selector: (candidate) => candidate.username, maxLength: 30 }), fc.constantFrom(',', ';'), (people, separator) => {
        const quoted = (cell: string) => `"${cell.replace(/"/g, '""')}"`;
        const units = (hundredths: number) => `${Math.trunc(hundredths / 100)},${String(hundredths % 100).padStart(2, '0')}`;
        const lines = people.map((row, index) => [row.username, quoted(row.displayName), `p${index}@example.edu`, row.role, quoted(units(row.openingBalance))].join(separator));
        const file = read([HEADER.replace(/,/g, separator), ...lines].join('\r\n'));
        expect(file.problems).to.deep.equal(people.length === 0 ? [{ line: null, code: 'no_people' }] : []);
        expect(file.people).to.deep.equal(people.map((row, index) => ({ line: index + 2, username: row.username, displayName: row.displayName, email: `p${index}@example.edu`, role: row.role, openingBalance: row.openingBalance })));
      }),
    );
  });
});
