import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { projectRoot } from '../../src/config.js';
import { createDatabase } from '../../src/db/database.js';
import { loginSource, sourceDigest } from '../../src/domain/people/login-throttle.js';
import { compile, waitForOutput } from '../helpers/processes.js';
import { csrfTokenFrom } from '../helpers/portal.js';
import { until } from '../helpers/waiting.js';
import { deployFolder, requireProgram, run, serviceSetting } from './deploy-files.js';
import { freePort } from '../helpers/free-port.js';

const SITE = 'print.example.edu';
/** Where the test's requests come from: a loopback address of its own, so that the portal can tell it from nginx's 127.0.0.1. */
const CLIENT_ADDRESS = '127.0.0.2';
/** A load balancer in front of the site (a server of its own in the same nginx), and a client that reaches the site through it. */
const BALANCER_ADDRESS = '127.0.0.3';
const CLIENT_BEHIND_BALANCER = '127.0.0.4';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * docs/deploy/nginx.conf as a site would adopt it: the certificate's paths and the portal's port
 * changed (and unprivileged ports here), in front of the portal started with recharge.service's
 * ExecStart; Debian's nginx, a master and its workers, started and stopped by the test.
 */
describe('docs/deploy/nginx.conf in front of the portal', function () {
  this.timeout(120_000);
  let folder: string;
  let certificate: Buffer;
  let portal: ChildProcess;
  let portalOutput = '';
  let portalPort: number;
  let student: { username: string; password: string };
  let nginx: ChildProcess | null = null;
  let ports: { http: number; https: number; balancer: number };
  const metricsToken = randomBytes(32).toString('hex');

  before(async () => {
    await requireProgram('nginx', ['-v'], 'nginx');
    folder = await mkdtemp(path.join(tmpdir(), 'recharge-nginx-'));
    // nginx's workers run as another user when it is started by root: they need to reach the temp folders.
    await chmod(folder, 0o755);
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${SITE}`, '-addext', `subjectAltName=DNS:${SITE}`, '-keyout', path.join(folder, 'privkey.pem'), '-out', path.join(folder, 'fullchain.pem')]);
    certificate = await readFile(path.join(folder, 'fullchain.pem'));

    await compile();
    const [, ...nodeArguments] = serviceSetting('ExecStart').split(' ');
    portal = spawn(process.execPath, nodeArguments, {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: '0',
        PUBLIC_URL: `https://${SITE}`,
        TRUST_PROXY: 'loopback',
        DATABASE_URL: `sqlite:${path.join(folder, 'data', 'recharge.sqlite')}`,
        UPLOADS_DIR: path.join(folder, 'data', 'uploads'),
        METRICS_TOKEN: metricsToken,
        RECONCILE_INTERVAL_SECONDS: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    portal.stdout?.on('data', (chunk: Buffer) => (portalOutput += chunk.toString()));
    portal.stderr?.on('data', (chunk: Buffer) => (portalOutput += chunk.toString()));
    const banner = await waitForOutput(portal, /Recharge is running at http:\/\/localhost:(\d+)[\s\S]*user\s+\S+ \/ \S+/, 60_000);
    portalPort = Number(/localhost:(\d+)/.exec(banner)?.[1]);
    const [, username = '', password = ''] = /user\s+(\S+) \/ (\S+)/.exec(banner) ?? [];
    student = { username, password };

    ports = { http: await freePort(), https: await freePort(), balancer: await freePort() };
    const site = await adaptSite(await readFile(path.join(deployFolder, 'nginx.conf'), 'utf8'));
    await writeFile(path.join(folder, 'recharge.conf'), site);
    for (const temp of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
      await mkdir(path.join(folder, temp));
      await chmod(path.join(folder, temp), 0o777);
    }
    await writeFile(path.join(folder, 'nginx.conf'), mainConfig());
  });

  after(async () => {
    if (nginx) await stop(nginx, 'SIGQUIT');
    if (portal) expect(await stop(portal, 'SIGTERM')).to.equal(0);
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  /** The site file with a site's own paths and ports, each change made exactly where the example has it. */
  async function adaptSite(example: string): Promise<string> {
    const changes: Array<[string, string]> = [
      ['    server 127.0.0.1:3000;', `    server 127.0.0.1:${portalPort};`],
      ['    listen 80 default_server;', `    listen 127.0.0.1:${ports.http} default_server;`],
      ['    listen [::]:80 default_server;\n', ''],
      ['    listen 443 ssl http2 default_server;', `    listen 127.0.0.1:${ports.https} ssl http2 default_server;`],
      ['    listen [::]:443 ssl http2 default_server;\n', ''],
      ['    listen 80;', `    listen 127.0.0.1:${ports.http};`],
      ['    listen [::]:80;\n', ''],
      ['    listen 443 ssl http2;', `    listen 127.0.0.1:${ports.https} ssl http2;`],
      ['    listen [::]:443 ssl http2;\n', ''],
      [`/etc/letsencrypt/live/${SITE}/fullchain.pem`, path.join(folder, 'fullchain.pem')],
      [`/etc/letsencrypt/live/${SITE}/privkey.pem`, path.join(folder, 'privkey.pem')],
      // The load balancer's address where the example has a placeholder, its three lines switched on.
      ['    # set_real_ip_from 10.0.0.10;\n    # real_ip_header X-Forwarded-For;\n    # real_ip_recursive on;\n', `    set_real_ip_from ${BALANCER_ADDRESS};\n    real_ip_header X-Forwarded-For;\n    real_ip_recursive on;\n`],
    ];
    return changes.reduce((text, [from, to]) => {
      expect(text.split(from).length - 1, `docs/deploy/nginx.conf has "${from.trim()}" once`).to.equal(1);
      return text.replace(from, to);
    }, example);
  }

  /**
   * What Debian's /etc/nginx/nginx.conf does around a site, with every file the test's own; and a load
   * balancer as one would be in front of the site: it connects from an address of its own, to the site's
   * HTTPS port with its name, and adds the client's address to X-Forwarded-For.
   */
  function mainConfig(): string {
    const file = (name: string) => path.join(folder, name);
    return `pid ${file('nginx.pid')};
error_log ${file('error.log')} warn;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log ${file('access.log')};
    client_body_temp_path ${file('body')};
    proxy_temp_path ${file('proxy')};
    fastcgi_temp_path ${file('fastcgi')};
    uwsgi_temp_path ${file('uwsgi')};
    scgi_temp_path ${file('scgi')};
    include ${file('recharge.conf')};
    server {
        listen 127.0.0.1:${ports.balancer};
        location / {
            proxy_pass https://127.0.0.1:${ports.https};
            proxy_bind ${BALANCER_ADDRESS};
            proxy_ssl_server_name on;
            proxy_ssl_name ${SITE};
            proxy_set_header Host ${SITE};
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }
    }
}
`;
  }

  const nginxArguments = () => ['-p', folder, '-e', path.join(folder, 'error.log'), '-c', path.join(folder, 'nginx.conf')];

  /**
   * A request to nginx as a browser at the site's address sends it, from CLIENT_ADDRESS; `balancer`: in
   * plain HTTP to the load balancer, from CLIENT_BEHIND_BALANCER. `site` is the name in Host and SNI.
   */
  function ask(
    scheme: 'http' | 'https' | 'balancer',
    pathname: string,
    { method = 'GET', headers = {}, body, site = SITE }: { method?: string; headers?: Record<string, string>; body?: string | Buffer; site?: string } = {},
  ): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const options = {
        host: '127.0.0.1',
        localAddress: scheme === 'balancer' ? CLIENT_BEHIND_BALANCER : CLIENT_ADDRESS,
        port: ports[scheme],
        path: pathname,
        method,
        headers: { Host: site, ...headers },
        agent: false as const,
      };
      const sent = scheme === 'https' ? httpsRequest({ ...options, servername: site, ca: certificate }) : httpRequest(options);
      sent.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      });
      sent.on('error', reject);
      sent.end(body);
    });
  }

  it('passes nginx -t with the site as a site would adapt it', async () => {
    const { stderr } = await run('nginx', ['-t', ...nginxArguments()]);
    expect(stderr).to.include('syntax is ok').and.include('test is successful');
  });

  /** nginx in the foreground (its master and workers the test's children), started by the first test that needs it. */
  let started: Promise<void> | null = null;
  const nginxRunning = () =>
    (started ??= (async () => {
      nginx = spawn('nginx', [...nginxArguments(), '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
      await until(() => accepts(ports.https), 'nginx listens');
    })());

  it('serves the portal over HTTPS through nginx started for real, and sends plain HTTP to HTTPS', async () => {
    await nginxRunning();
    const page = await ask('https', '/login');
    expect(page.status).to.equal(200);
    expect(page.body.toString()).to.include('name="username"');
    const redirect = await ask('http', '/login?next=%2Faccount');
    expect(redirect.status).to.equal(301);
    expect(redirect.headers.location).to.equal(`https://${SITE}/login?next=%2Faccount`);
  });

  /** Signs a demo person (the student by default) in through nginx (or the load balancer in front of it), checking each step and the cookies; returns the Cookie header. */
  async function signIn(scheme: 'https' | 'balancer', person = student, name = 'Camille Martin'): Promise<string> {
    const jar = new Map<string, string>();
    const keep = (answer: Answer) => {
      for (const cookie of answer.headers['set-cookie'] ?? []) {
        expect(cookie, cookie).to.match(/^__Host-[^=]+=/).and.match(/; Secure/i);
        const [pair = ''] = cookie.split(';');
        jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
      }
      return answer;
    };
    const cookies = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    // What a client writes in X-Forwarded-* must not reach the portal: nginx replaces them.
    const forged = { 'X-Forwarded-For': '203.0.113.9', 'X-Forwarded-Proto': 'http' };

    const form = keep(await ask(scheme, '/login', { headers: forged }));
    const fields = new URLSearchParams({ _csrf: csrfTokenFrom(form.body.toString()), username: person.username, password: person.password });
    const signedIn = keep(await ask(scheme, '/login', { method: 'POST', headers: { ...forged, Cookie: cookies(), 'Content-Type': 'application/x-www-form-urlencoded' }, body: fields.toString() }));
    expect(signedIn.status, signedIn.body.toString().slice(0, 300)).to.equal(303);
    expect(signedIn.headers.location).to.equal('/account');
    const account = await ask(scheme, '/account', { headers: { Cookie: cookies() } });
    expect(account.status).to.equal(200);
    expect(account.body.toString()).to.include(name);
    return cookies();
  }

  /** The addresses the portal saw a successful sign-in from (req.ip), as it stores them: digests. */
  async function signInSources(): Promise<string[]> {
    const db = createDatabase({ dialect: 'sqlite', filename: path.join(folder, 'data', 'recharge.sqlite') });
    try {
      return await db.knex('login_familiar_sources').pluck('source_sha256');
    } finally {
      await db.close();
    }
  }
  const digestOf = (address: string) => sourceDigest(loginSource(address));

  it('passes https and the client’s address on as TRUST_PROXY expects: Secure __Host- cookies, a sign-in that holds, the address nginx saw', async () => {
    await nginxRunning();
    await signIn('https');
    expect(await signInSources()).to.deep.equal([digestOf(CLIENT_ADDRESS)]);
  });

  it('behind a load balancer, with the realip lines switched on, still passes the client’s address on, not the balancer’s', async () => {
    await nginxRunning();
    await signIn('balancer');
    const sources = await signInSources();
    expect(sources).to.include(digestOf(CLIENT_BEHIND_BALANCER));
    expect(sources).not.to.include.members([digestOf(BALANCER_ADDRESS), digestOf('203.0.113.9')]);
  });

  it('answers no other host name: the TLS handshake is refused, plain HTTP closed without an answer', async () => {
    await nginxRunning();
    const other = 'other.example.org';
    const refusal = (scheme: 'http' | 'https') =>
      ask(scheme, '/login', { site: other }).then(
        (answer) => `answered ${answer.status} ${answer.headers.location ?? ''}`,
        (error: NodeJS.ErrnoException) => `${error.code}: ${error.message}`,
      );
    expect(await refusal('https')).to.match(/^EPROTO: .*unrecognized name/);
    expect(await refusal('http')).to.match(/^ECONNRESET: /);
    // The site's own name with another Host (a forged one): the default server's 444 too.
    expect(await ask('https', '/login', { headers: { Host: other } }).then(() => 'answered', (error: NodeJS.ErrnoException) => error.code)).to.equal('ECONNRESET');
  });

  it('offers TLS 1.2 only with the forward-secret AEAD suites of Mozilla’s intermediate profile', async () => {
    await nginxRunning();
    // TLS 1.2 only with the suite named; the answer is the suite agreed on, or why there was none.
    const handshake = (ciphers: string) =>
      new Promise<string>((resolve) => {
        const options: ConnectionOptions = { host: '127.0.0.1', port: ports.https, servername: SITE, ca: certificate, ciphers, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };
        const socket = tlsConnect(options, () => {
          resolve(socket.getCipher().name);
          socket.destroy();
        });
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(`refused: ${error.code ?? error.message}`));
      });
    expect(await handshake('ECDHE-RSA-AES128-GCM-SHA256')).to.equal('ECDHE-RSA-AES128-GCM-SHA256');
    expect(await handshake('ECDHE-RSA-CHACHA20-POLY1305')).to.equal('ECDHE-RSA-CHACHA20-POLY1305');
    // In nginx's default (HIGH), left out by the profile: CBC with SHA-1, and RSA key exchange without forward secrecy.
    for (const weaker of ['ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384', 'AES128-GCM-SHA256']) expect(await handshake(weaker), weaker).to.match(/^refused/);
  });

  it('compresses the stylesheet but not the pages, which carry CSRF tokens', async () => {
    await nginxRunning();
    const gzip = { 'Accept-Encoding': 'gzip' };
    const stylesheet = await ask('https', '/assets/recharge.css', { headers: gzip });
    expect(stylesheet.status).to.equal(200);
    expect(stylesheet.headers['content-encoding']).to.equal('gzip');
    expect(gunzipSync(stylesheet.body).toString()).to.include('--primary');
    const page = await ask('https', '/login', { headers: gzip });
    expect(page.headers['content-encoding']).to.equal(undefined);
  });

  it('keeps /metrics off the public site, however it is written, while the portal serves it to Prometheus', async () => {
    await nginxRunning();
    const bearer = { Authorization: `Bearer ${metricsToken}` };
    for (const pathname of ['/metrics', '/METRICS', '/metrics/', '//metrics', '/%6detrics', '/metrics?format=text']) {
      const answer = await ask('https', pathname, { headers: bearer });
      expect(answer.status, pathname).to.equal(404);
      expect(answer.body.toString(), pathname).not.to.include('# HELP');
    }
    const direct = await fetch(`http://127.0.0.1:${portalPort}/metrics`, { headers: bearer });
    expect(direct.status).to.equal(200);
    expect(await direct.text()).to.include('# HELP');
  });

  it('lets the portal answer uploads up to its largest form, and refuses bigger ones itself', async () => {
    await nginxRunning();
    // Signed in as IT, whose upload the portal reads to its end before answering (no CSRF token: 403).
    // A visitor's is refused before it is read, and the portal closing the connection while nginx
    // still sends the body made nginx answer 502 instead, now and then.
    const [, username = '', password = ''] = /\bit\s+(\S+) \/ (\S+)/.exec(portalOutput) ?? [];
    const cookie = await signIn('https', { username, password }, '');
    const post = (bytes: number) =>
      ask('https', '/it/branding/draft', { method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'multipart/form-data; boundary=x' }, body: Buffer.alloc(bytes, 'a') });
    // The portal's own answer, not nginx's.
    const withinLimit = await post(2.5 * 1024 * 1024);
    expect(withinLimit.status).not.to.equal(413);
    expect(withinLimit.body.toString()).not.to.include('<center>nginx</center>');
    const tooBig = await post(3.5 * 1024 * 1024);
    expect(tooBig.status).to.equal(413);
    expect(tooBig.body.toString()).to.include('<center>nginx</center>');
  });

  it('stops, leaving no nginx process behind', async () => {
    await nginxRunning();
    const master = Number((await readFile(path.join(folder, 'nginx.pid'), 'utf8')).trim());
    expect(master).to.equal(nginx?.pid);
    const workers = (await run('ps', ['-o', 'pid=', '--ppid', String(master)])).stdout.split('\n').filter((line) => line.trim() !== '').map(Number);
    expect(workers).to.have.length.above(0);
    await stop(nginx as ChildProcess, 'SIGQUIT');
    nginx = null;
    expect(await accepts(ports.https)).to.equal(false);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect([master, ...workers].filter(alive)).to.deep.equal([]);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(`The portal's output:\n${portalOutput}`);
  });
});


function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Sends the signal and resolves with the exit code once the process has ended. */
function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  return exited;
}
