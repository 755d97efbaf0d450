import { expect } from 'chai';
import { isDatabaseUnavailable } from '../../src/db/database.js';

const withCode = (code: string) => Object.assign(new Error('failed'), { code });

describe('a database that cannot answer, told from a query that failed', () => {
  it('knows PostgreSQL shutting down, starting up, out of slots, and lost or refused connections', () => {
    for (const code of ['57P01', '57P02', '57P03', '53300', '08006', '08001', 'ECONNREFUSED', 'ECONNRESET']) expect(isDatabaseUnavailable(withCode(code)), code).to.equal(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('Knex: Timeout acquiring a connection'), { name: 'KnexTimeoutError' }))).to.equal(true);
    // knex writes the query before pg's words (seen in the chaos run).
    expect(isDatabaseUnavailable(new Error('select "sess" from "sessions" where "sid" = $1 - Connection terminated unexpectedly'))).to.equal(true);
  });

  it('leaves real query failures to be server errors', () => {
    for (const code of ['23505', '42P01', '22021', 'SQLITE_ERROR', '57014']) expect(isDatabaseUnavailable(withCode(code)), code).to.equal(false);
    for (const value of [null, undefined, 'Connection terminated unexpectedly', 42]) expect(isDatabaseUnavailable(value)).to.equal(false);
  });
});
