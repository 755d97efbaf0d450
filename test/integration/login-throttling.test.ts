import { expect } from 'chai';
import supertest from 'supertest';
import { testDialect } from '../helpers/database.js';
import { cookiesOf, createTestPortal, logIn, type TestPortal } from '../helpers/portal.js';
import { runEntry } from '../helpers/processes.js';

const PASSWORD = 'correct horse battery';
const MINUTE = 60_000;
const SLOWED = 'Ce compte a subi de nombreuses tentatives de connexion : depuis un lieu inhabituel, il ne peut être essayé que toutes les quelques minutes. Réessayez dans 3 minutes.';

/** The error the login page shows. */
const messageOf = (html: string) => /<p class="error"[^>]*>([^<]*)</.exec(html)?.[1];

/**
 * One login through the form from `ip` (the portals below trust X-Forwarded-For), from a browser
 * holding `device` (a device cookie, "name=value") if given: status, Retry-After, message.
 */
async function attempt(portal: TestPortal, username: string, password: string, ip: string, device?: string) {
  const response = await logIn(supertest.agent(portal.app), username, password, { 'X-Forwarded-For': ip, ...(device ? { Cookie: device } : {}) });
  return { status: response.status, retryAfter: response.headers['retry-after'] as string | undefined, message: messageOf(response.text) };
}

/** Signs in from `ip` with the right password; returns the device cookie the browser is given ("name=value"). */
async function deviceCookieOf(portal: TestPortal, username: string, ip: string): Promise<string> {
  const response = await logIn(supertest.agent(portal.app), username, PASSWORD, { 'X-Forwarded-For': ip });
  expect(response.status).to.equal(303);
  const device = cookiesOf(response).find((cookie) => cookie.startsWith('recharge.device='));
  expect(device).to.be.a('string');
  return device as string;
}

describe(`login throttling (${testDialect})`, () => {
  let portal: TestPortal;
  before(async () => {
    portal = await createTestPortal({ TRUST_PROXY: 'true', LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_MAX_FAILURES_PER_IP: '5', LOGIN_LOCK_MINUTES: '15' });
  });
  after(() => portal.cleanup());

  it('locks a username at one address after repeated failures, whether or not it exists, then lets the right password in after the lock', async () => {
    await portal.addUser('target', PASSWORD);
    for (const [index, username] of ['target', 'no-such-person'].entries()) {
      const ip = `10.0.${index}.1`;
      for (let failure = 0; failure < 3; failure += 1) expect((await attempt(portal, username, 'wrong password', ip)).status).to.equal(401);
      const locked = await attempt(portal, username, username === 'target' ? PASSWORD : 'wrong password', ip);
      expect(locked).to.deep.equal({ status: 429, retryAfter: '900', message: 'Trop de tentatives. Réessayez dans 15 minutes.' });
    }
    portal.clock.advance(15 * MINUTE);
    expect((await attempt(portal, 'target', PASSWORD, '10.0.0.1')).status).to.equal(303);
  });

  it('slows, without locking, a username failing from many addresses: one try every 3 minutes from unfamiliar addresses, answered alike whether it exists or not', async () => {
    await portal.addUser('sprayed', PASSWORD);
    const answers = [];
    for (const [index, username] of ['sprayed', 'nobody-at-all'].entries()) {
      const ip = (last: number) => `10.6.${index}.${last}`;
      for (let last = 1; last <= 3; last += 1) expect((await attempt(portal, username, 'wrong password', ip(last))).status).to.equal(401);
      const waiting = await attempt(portal, username, 'wrong password', ip(4));
      portal.clock.advance(3 * MINUTE);
      const tried = await attempt(portal, username, 'wrong password', ip(5));
      const waitingAgain = await attempt(portal, username, 'wrong password', ip(6));
      answers.push([waiting, tried, waitingAgain]);
      portal.clock.advance(3 * MINUTE);
    }
    expect(answers[0]).to.deep.equal(answers[1]);
    for (const answer of answers[0]!) expect(answer).to.deep.equal({ status: 429, retryAfter: '180', message: SLOWED });
    // The next try is the person's: the right password opens the account, from anywhere.
    expect((await attempt(portal, 'sprayed', PASSWORD, '10.6.9.9')).status).to.equal(303);
  });

  it("lets the owner in from their usual address while 20 other addresses spray the account's password", async () => {
    await portal.addUser('camille', PASSWORD);
    const usual = '198.51.100.10';
    expect((await attempt(portal, 'camille', PASSWORD, usual)).status).to.equal(303);
    const statuses: number[] = [];
    for (let round = 0; round < 4; round += 1) {
      for (let host = 1; host <= 20; host += 1) statuses.push((await attempt(portal, 'camille', `guess ${round}`, `203.0.113.${host}`)).status);
    }
    expect(statuses.filter((status) => status === 401)).to.have.length(3);
    expect(statuses.filter((status) => status === 429)).to.have.length(77);
    expect((await attempt(portal, 'camille', PASSWORD, usual)).status).to.equal(303);
    // An address Camille never signed in from waits for the account's next try, like the attacker.
    expect(await attempt(portal, 'camille', PASSWORD, '192.0.2.200')).to.deep.include({ status: 429, message: SLOWED });
    // A mistake at the usual address is an ordinary one.
    expect((await attempt(portal, 'camille', 'typo', usual)).status).to.equal(401);
  });

  it('remembers the last 10 addresses a person signed in from, for 90 days', async () => {
    const nomad = await portal.addUser('nomad', PASSWORD);
    for (let host = 1; host <= 12; host += 1) {
      expect((await attempt(portal, 'nomad', PASSWORD, `100.64.0.${host}`)).status).to.equal(303);
      portal.clock.advance(MINUTE);
    }
    expect(await portal.db.knex('login_familiar_sources').where('user_id', nomad.id).count({ total: '*' }).first()).to.satisfy((row: { total: unknown }) => Number(row.total) === 10);
    for (let host = 1; host <= 3; host += 1) expect((await attempt(portal, 'nomad', 'wrong password', `100.65.0.${host}`)).status).to.equal(401);
    expect((await attempt(portal, 'nomad', PASSWORD, '100.64.0.2')).message).to.equal(SLOWED);
    expect((await attempt(portal, 'nomad', PASSWORD, '100.64.0.3')).status).to.equal(303);
    portal.clock.advance(90 * 24 * 60 * MINUTE);
    for (let host = 4; host <= 6; host += 1) expect((await attempt(portal, 'nomad', 'wrong password', `100.65.0.${host}`)).status).to.equal(401);
    expect((await attempt(portal, 'nomad', PASSWORD, '100.64.0.12')).message).to.equal(SLOWED);
  });

  it('treats the IPv6 addresses of one /64 network as one address, to count failures and to recognise the usual place', async () => {
    await portal.addUser('six', PASSWORD);
    expect((await attempt(portal, 'six', PASSWORD, '2001:db8:1:2::10')).status).to.equal(303);
    for (let network = 1; network <= 3; network += 1) expect((await attempt(portal, 'six', 'wrong password', `2001:db8:5:${network}::1`)).status).to.equal(401);
    // Slowed; the next day's privacy address in the usual network is still the usual place.
    expect((await attempt(portal, 'six', PASSWORD, '2001:db8:9:9::1')).message).to.equal(SLOWED);
    expect((await attempt(portal, 'six', PASSWORD, '2001:db8:1:2:abcd:ef01:2345:6789')).status).to.equal(303);
    // Three addresses of one network lock that network for the username, like one address would.
    for (let host = 1; host <= 3; host += 1) expect((await attempt(portal, 'six-bis', 'wrong password', `2001:db8:7:7::${host}`)).status).to.equal(401);
    expect(await attempt(portal, 'six-bis', 'wrong password', '2001:db8:7:7::4')).to.deep.equal({ status: 429, retryAfter: '900', message: 'Trop de tentatives. Réessayez dans 15 minutes.' });
  });

  it('lets a person in at their usual shared address (a campus NAT) while others there guess their password or fail on other usernames, and keeps the others out', async () => {
    await portal.addUser('campus-student', PASSWORD);
    await portal.addUser('campus-visitor', PASSWORD);
    const campus = '198.51.100.7';
    const busy = { status: 429, retryAfter: '180', message: 'Trop de tentatives. Réessayez dans 3 minutes.' };
    expect((await attempt(portal, 'campus-student', PASSWORD, campus)).status).to.equal(303);
    // Someone on the campus guesses the student's password: past 3 failures the pair is slowed there, one try every 3 minutes.
    for (let guess = 0; guess < 3; guess += 1) expect((await attempt(portal, 'campus-student', `guess ${guess}`, campus)).status).to.equal(401);
    expect((await attempt(portal, 'campus-student', 'guess 3', campus)).status).to.equal(401);
    expect(await attempt(portal, 'campus-student', 'guess 4', campus)).to.deep.equal(busy);
    // The student, there too, waits for the next try at most.
    expect(await attempt(portal, 'campus-student', PASSWORD, campus)).to.deep.equal(busy);
    portal.clock.advance(3 * MINUTE);
    expect((await attempt(portal, 'campus-student', PASSWORD, campus)).status).to.equal(303);

    // Later, failures for 5 other usernames lock the campus address: for everyone it is not usual to, not for the student.
    portal.clock.advance(15 * MINUTE);
    for (let index = 0; index < 5; index += 1) expect((await attempt(portal, `campus-${index}`, 'wrong password', campus)).status).to.equal(401);
    const locked = { status: 429, retryAfter: '900', message: 'Trop de tentatives. Réessayez dans 15 minutes.' };
    expect(await attempt(portal, 'campus-visitor', PASSWORD, campus)).to.deep.equal(locked);
    expect(await attempt(portal, 'no-one-on-campus', 'wrong password', campus)).to.deep.equal(locked);
    expect((await attempt(portal, 'campus-student', PASSWORD, campus)).status).to.equal(303);
    expect(await attempt(portal, 'campus-student', 'guess 5', campus)).to.deep.equal(busy);
  });

  it('cannot be outrun by attempts sent in parallel', async () => {
    await portal.addUser('parallel-target', PASSWORD);
    const statuses = await Promise.all(Array.from({ length: 20 }, (_, index) => attempt(portal, 'parallel-target', 'wrong password', `10.1.0.${index + 1}`).then((answer) => answer.status)));
    expect(statuses.filter((status) => status === 401)).to.have.length(3);
    expect(statuses.filter((status) => status === 429)).to.have.length(17);
    expect((await attempt(portal, 'parallel-target', PASSWORD, '10.1.1.1')).status).to.equal(429);
  });

  it('locks an address that fails across many usernames', async () => {
    await portal.addUser('bystander', PASSWORD);
    for (let index = 0; index < 5; index += 1) expect((await attempt(portal, `someone-${index}`, 'wrong password', '192.0.2.7')).status).to.equal(401);
    expect((await attempt(portal, 'bystander', PASSWORD, '192.0.2.7')).status).to.equal(429);
    expect((await attempt(portal, 'bystander', PASSWORD, '192.0.2.8')).status).to.equal(303);
  });

  it('counts a failed login however odd the request: a username that grows when lower-cased, an address of 1000 characters', async () => {
    const username = 'İ'.repeat(320);
    const address = `${'f'.repeat(1000)}`;
    for (let index = 0; index < 3; index += 1) expect((await attempt(portal, username, 'wrong password', address)).status).to.equal(401);
    expect((await attempt(portal, username, 'wrong password', address)).status).to.equal(429);
  });
});

describe(`device cookies (${testDialect})`, () => {
  let portal: TestPortal;
  before(async () => {
    portal = await createTestPortal({ TRUST_PROXY: 'true' });
  });
  after(() => portal.cleanup());

  const pairLocked = { status: 429, retryAfter: '1800', message: 'Trop de tentatives. Réessayez dans 30 minutes.' };

  it('lets the owner in with their device cookie at every try, every 7 minutes for 3 hours, while someone at their usual shared address takes every try there the moment it is due', async () => {
    await portal.addUser('lea', PASSWORD);
    const campus = '198.51.100.20';
    const device = await deviceCookieOf(portal, 'lea', campus);
    const start = portal.clock.now().getTime();
    const elapsed = () => portal.clock.now().getTime() - start;
    let attackerDueAt = 0;
    let ownerDueAt = 7 * MINUTE;
    let guesses = 0;
    const owner: number[] = [];
    while (elapsed() < 3 * 60 * MINUTE) {
      // The attacker goes first when both are due.
      if (attackerDueAt <= ownerDueAt) {
        portal.clock.advance(attackerDueAt - elapsed());
        const answer = await attempt(portal, 'lea', `guess ${guesses}`, campus);
        if (answer.status === 401) guesses += 1;
        else attackerDueAt = elapsed() + Number(answer.retryAfter) * 1000;
      } else {
        portal.clock.advance(ownerDueAt - elapsed());
        owner.push((await attempt(portal, 'lea', PASSWORD, campus, device)).status);
        ownerDueAt += 7 * MINUTE;
      }
    }
    expect(owner).to.deep.equal(Array<number>(25).fill(303));
    // Every try there was the attacker's: 10 per lock, and one every 3 minutes while the pair was slowed.
    expect(guesses).to.be.at.least(100);
  });

  it("ignores a device cookie made for another username, and a forged one", async () => {
    await portal.addUser('noe', PASSWORD);
    await portal.addUser('ines', PASSWORD);
    const noeDevice = await deviceCookieOf(portal, 'noe', '10.9.0.1');
    const inesDevice = await deviceCookieOf(portal, 'ines', '10.9.0.2');
    const [inesId, inesSignature] = inesDevice.replace('recharge.device=', '').split('.') as [string, string];
    const noeSignature = noeDevice.split('.').at(-1) as string;
    const forged = [
      `recharge.device=${inesId}.${noeSignature}`,
      `recharge.device=${inesId}.${inesSignature[0] === 'A' ? 'B' : 'A'}${inesSignature.slice(1)}`,
      `recharge.device=${inesId}`,
    ];
    const cafe = '10.9.0.3';
    for (let failure = 0; failure < 10; failure += 1) expect((await attempt(portal, 'ines', 'wrong password', cafe)).status).to.equal(401);
    for (const device of [noeDevice, ...forged]) expect(await attempt(portal, 'ines', PASSWORD, cafe, device), device).to.deep.equal(pairLocked);
    expect((await attempt(portal, 'ines', PASSWORD, cafe, inesDevice)).status).to.equal(303);
  });

  it('stops trusting a device cookie after 10 failures with it: it then waits like any browser, while its owner still gets in from their usual address', async () => {
    await portal.addUser('theo', PASSWORD);
    const home = '10.10.0.1';
    const stolen = await deviceCookieOf(portal, 'theo', home);
    for (let host = 1; host <= 10; host += 1) expect((await attempt(portal, 'theo', 'wrong password', `10.10.1.${host}`)).status).to.equal(401);
    // The account is slowed: a browser without its device cookie waits for the account's next try.
    const thief = '10.10.2.1';
    expect(await attempt(portal, 'theo', 'wrong password', thief)).to.deep.equal({ status: 429, retryAfter: '180', message: SLOWED });
    for (let guess = 0; guess < 10; guess += 1) expect((await attempt(portal, 'theo', `guess ${guess}`, thief, stolen)).status).to.equal(401);
    for (const password of ['guess 10', PASSWORD]) expect(await attempt(portal, 'theo', password, thief, stolen)).to.deep.equal({ status: 429, retryAfter: '180', message: SLOWED });
    expect((await attempt(portal, 'theo', PASSWORD, home, stolen)).status).to.equal(303);
  });

  it('keeps the hard lock of an admin account signing in with its device cookie: its failures count, and 10 lock it', async () => {
    await portal.addUser('direction', PASSWORD, { role: 'admin' });
    const desk = '10.11.0.1';
    const device = await deviceCookieOf(portal, 'direction', desk);
    for (let failure = 0; failure < 10; failure += 1) expect((await attempt(portal, 'direction', 'wrong password', desk, device)).status).to.equal(401);
    expect(await attempt(portal, 'direction', PASSWORD, desk, device)).to.deep.equal({
      status: 429,
      retryAfter: '1800',
      message: 'Ce compte est verrouillé après trop de tentatives. Réessayez dans 30 minutes ou demandez au service informatique de le déverrouiller.',
    });
  });
});

describe(`login throttle rows (${testDialect})`, () => {
  it('keeps only rows that hold a count or a lock: refused attempts add none, and rows whose time is up are deleted', async () => {
    const portal = await createTestPortal({ TRUST_PROXY: 'true', LOGIN_MAX_FAILURES_PER_IP: '5', LOGIN_LOCK_MINUTES: '15' });
    try {
      const rows = async () => Number((await portal.db.knex('login_throttle').count({ total: '*' }).first())?.total);
      const address = '203.0.113.9';
      for (let index = 0; index < 5; index += 1) expect((await attempt(portal, `sprayed-${index}`, 'wrong password', address)).status).to.equal(401);
      // Each username's count and its count at the address, and the address's count (now its lock).
      expect(await rows()).to.equal(11);
      for (let index = 0; index < 100; index += 1) expect((await attempt(portal, `stranger-${index}`, 'wrong password', address)).status).to.equal(429);
      expect(await rows()).to.equal(11);
      // The lock and the counting window are over: the next attempt, from anywhere, clears them away.
      portal.clock.advance(15 * MINUTE);
      expect((await attempt(portal, 'someone-else', 'wrong password', '203.0.113.10')).status).to.equal(401);
      expect(await rows()).to.equal(3);
    } finally {
      await portal.cleanup();
    }
  });
});

describe(`admin and IT account lockout (${testDialect})`, () => {
  const failTenTimes = async (portal: TestPortal, username: string) => {
    for (let index = 0; index < 10; index += 1) expect((await attempt(portal, username, 'wrong password', `10.2.${index}.1`)).status).to.equal(401);
  };

  it('locks admin and IT accounts everywhere after 10 failures for 30 minutes, even at their usual address, until `login unlock`', async () => {
    const portal = await createTestPortal({ TRUST_PROXY: 'true' });
    try {
      // The command line tells a running lock by the real clock.
      portal.clock.advance(Date.now() - portal.clock.now().getTime());
      await portal.addUser('gestion', PASSWORD, { role: 'admin' });
      await portal.addUser('etudiant', PASSWORD);
      const desk = '10.8.0.1';
      for (const username of ['gestion', 'etudiant']) {
        expect((await attempt(portal, username, PASSWORD, desk)).status).to.equal(303);
        await failTenTimes(portal, username);
      }
      expect((await attempt(portal, 'etudiant', PASSWORD, desk)).status).to.equal(303);
      const locked = await attempt(portal, 'gestion', PASSWORD, desk);
      expect(locked).to.deep.equal({ status: 429, retryAfter: '1800', message: 'Ce compte est verrouillé après trop de tentatives. Réessayez dans 30 minutes ou demandez au service informatique de le déverrouiller.' });

      const env = { NODE_ENV: 'test', DATABASE_URL: portal.url };
      const unlocked = await runEntry('src/cli.ts', ['login', 'unlock', '--username', 'Gestion'], { env });
      expect(unlocked, unlocked.stderr).to.deep.include({ code: 0, stdout: 'Unlocked Gestion: its failed logins are forgotten.\n' });
      const audit = await portal.db.knex('audit_log').where('action', 'person.unlock').select();
      expect(audit).to.have.length(1);
      expect(audit[0]).to.include({ actor_user_id: null, target: 'gestion' });
      expect(audit[0].actor_username).to.match(/^cli:/);
      expect(JSON.parse(audit[0].before_json)).to.deep.equal({ failures: 10, lockedUntil: new Date(portal.clock.now().getTime() + 30 * MINUTE).toISOString() });
      expect((await attempt(portal, 'gestion', PASSWORD, desk)).status).to.equal(303);

      const again = await runEntry('src/cli.ts', ['login', 'unlock', '--username', 'gestion'], { env });
      expect(again).to.deep.include({ code: 0, stdout: 'gestion had no failed logins counted; nothing changed.\n' });
      expect(await portal.db.knex('audit_log').where('action', 'person.unlock').count({ total: '*' }).first()).to.satisfy((row: { total: unknown }) => Number(row.total) === 1);
      expect(await runEntry('src/cli.ts', ['login', 'unlock', '--username', 'nobody'], { env })).to.deep.include({ code: 1, stderr: 'Error: no user named nobody\n' });
      expect((await runEntry('src/cli.ts', ['login', 'unlock'], { env })).code).to.equal(2);
    } finally {
      await portal.cleanup();
    }
  });

  it('looks the same from an unfamiliar address for an admin, an IT person, an ordinary person and nobody, with the defaults', async () => {
    const portal = await createTestPortal({ TRUST_PROXY: 'true' });
    try {
      await portal.addUser('gestion', PASSWORD, { role: 'admin' });
      await portal.addUser('informatique', PASSWORD, { role: 'it' });
      await portal.addUser('etudiant', PASSWORD);
      const usernames = ['gestion', 'informatique', 'etudiant', 'personne'];
      for (const username of usernames) await failTenTimes(portal, username);
      const seen = async (password: string, ip: string) => {
        const answers = [];
        for (const username of usernames) answers.push(await attempt(portal, username, password, ip));
        return answers;
      };
      // Right away, with the right password; then once a try is due, with a wrong one.
      const right = await seen(PASSWORD, '10.3.0.1');
      portal.clock.advance(3 * MINUTE);
      const wrong = await seen('wrong password', '10.3.0.2');
      for (const answer of [...right, ...wrong]) expect(answer).to.deep.equal({ status: 429, retryAfter: '180', message: SLOWED });
      // Only the right password tells them apart: the ordinary account is slowed, the others locked.
      portal.clock.advance(3 * MINUTE);
      expect((await seen(PASSWORD, '10.3.0.3')).map((answer) => answer.status)).to.deep.equal([429, 429, 303, 429]);
      portal.clock.advance(24 * MINUTE);
      expect((await seen(PASSWORD, '10.3.0.4')).map((answer) => answer.status)).to.deep.equal([303, 303, 303, 401]);
    } finally {
      await portal.cleanup();
    }
  });

  it('keeps admin and IT accounts locked for 30 minutes when other accounts are set to lock for less', async () => {
    const portal = await createTestPortal({ TRUST_PROXY: 'true', LOGIN_LOCK_MINUTES: '15' });
    try {
      await portal.addUser('gestion', PASSWORD, { role: 'admin' });
      await portal.addUser('informatique', PASSWORD, { role: 'it' });
      await portal.addUser('etudiant', PASSWORD);
      for (const username of ['gestion', 'informatique', 'etudiant']) await failTenTimes(portal, username);
      portal.clock.advance(15 * MINUTE);
      expect((await attempt(portal, 'etudiant', PASSWORD, '10.3.0.2')).status).to.equal(303);
      expect((await attempt(portal, 'gestion', PASSWORD, '10.3.0.2')).status).to.equal(429);
      expect((await attempt(portal, 'informatique', PASSWORD, '10.3.0.2')).status).to.equal(429);
      portal.clock.advance(15 * MINUTE);
      expect((await attempt(portal, 'gestion', PASSWORD, '10.3.0.4')).status).to.equal(303);
      expect((await attempt(portal, 'informatique', PASSWORD, '10.3.0.4')).status).to.equal(303);
    } finally {
      await portal.cleanup();
    }
  });

  it('does not lock an admin after 9 failures, and a success starts the count again', async () => {
    const portal = await createTestPortal({ TRUST_PROXY: 'true' });
    try {
      await portal.addUser('autre-admin', PASSWORD, { role: 'admin' });
      for (let round = 0; round < 2; round += 1) {
        for (let index = 0; index < 9; index += 1) expect((await attempt(portal, 'autre-admin', 'wrong password', `10.4.${index}.${round}`)).status).to.equal(401);
        expect((await attempt(portal, 'autre-admin', PASSWORD, '10.5.0.1')).status).to.equal(303);
      }
    } finally {
      await portal.cleanup();
    }
  });
});
