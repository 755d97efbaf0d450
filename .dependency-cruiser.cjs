/**
 * The dependency rule of docs/architecture.md ("Layers"), checked by `npm run lint:layers` in `npm test`.
 * Imports point one way: web → services → db, payments, smtp → domain. config, logger and i18n sit
 * beside domain and are used by every layer above it; app.ts, server.ts and cli/ assemble the whole.
 * Each rule's name and comment are what a failing build prints.
 */
const layer = (name) => `^src/${name}/`;
const outsideDomain = '^src/(?!domain/)';

/** Packages and Node modules that reach outside the process (disk, network, database, logs). */
const ioPackages = [
  'knex', 'pg', 'sqlite3', 'express', 'express-session', 'connect-session-knex', 'multer', 'nodemailer',
  'pino', 'pino-http', 'ejs', 'pdfkit', 'helmet', 'selfsigned',
].map((name) => `(^|/)node_modules/${name}/`);
const ioNodeModules = ['fs', 'fs/promises', 'http', 'https', 'tls', 'dns', 'dgram', 'child_process', 'worker_threads', 'cluster', 'readline', 'stream', 'stream/promises', 'zlib'];

module.exports = {
  forbidden: [
    {
      name: 'no-circles',
      severity: 'error',
      comment: 'Files import each other in a circle: move what both need into a module that imports neither.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'src/domain holds rules without I/O: it imports only other domain modules.',
      from: { path: layer('domain') },
      to: { path: outsideDomain },
    },
    {
      name: 'domain-does-no-io',
      severity: 'error',
      comment: 'src/domain does no I/O (no database, network, files, logs): put the use case in src/services/<capability>/.',
      from: { path: layer('domain') },
      to: { path: ioPackages },
    },
    {
      name: 'domain-uses-no-io-module',
      severity: 'error',
      comment: 'src/domain does no I/O (no files, sockets, processes or threads): put the use case in src/services/<capability>/.',
      from: { path: layer('domain') },
      to: { dependencyTypes: ['core'], path: ioNodeModules.map((name) => `^(node:)?${name}$`) },
    },
    {
      name: 'domain-opens-no-socket',
      severity: 'error',
      comment: 'src/domain opens no socket: node:net is allowed only for its pure address helpers (isIPv6) in login-throttle.ts.',
      from: { path: layer('domain'), pathNot: '^src/domain/people/login-throttle\\.ts$' },
      to: { dependencyTypes: ['core'], path: '^(node:)?net$' },
    },
    {
      name: 'foundations-use-domain-only',
      severity: 'error',
      comment: 'config.ts, logger.ts and src/i18n are used by every layer, so they import nothing above domain.',
      from: { path: ['^src/config\\.ts$', '^src/logger\\.ts$', '^src/system-clock\\.ts$', layer('i18n')] },
      to: { path: '^src/(db|payments|smtp|services|web|cli)/|^src/(app|server|cli)\\.ts$' },
    },
    {
      name: 'adapters-stand-on-domain',
      severity: 'error',
      comment: 'Repositories (src/db) and gateways (src/payments, src/smtp) depend on domain types, never on each other, on services or on web.',
      from: { path: '^src/(db|payments|smtp)/' },
      to: { path: '^src/(services|web|cli)/|^src/(app|server|cli)\\.ts$' },
    },
    {
      name: 'repositories-are-not-gateways',
      severity: 'error',
      comment: 'src/db does not call outside systems: a use case that needs both belongs in src/services.',
      from: { path: layer('db') },
      to: { path: '^src/(payments|smtp)/' },
    },
    {
      name: 'gateways-are-not-repositories',
      severity: 'error',
      comment: 'src/payments and src/smtp do not read the database: a use case that needs both belongs in src/services.',
      from: { path: '^src/(payments|smtp)/' },
      to: { path: layer('db') },
    },
    {
      name: 'services-below-web',
      severity: 'error',
      comment: 'src/services (use cases) never import the web layer or the process set-up: pass what they need as a parameter.',
      from: { path: layer('services') },
      to: { path: '^src/(web|cli)/|^src/(app|server|cli)\\.ts$' },
    },
    {
      name: 'web-through-services',
      severity: 'error',
      comment: 'src/web reaches data and outside systems through src/services (e.g. services/<capability>/records.ts); of src/db it names only the connection (db/database.ts).',
      from: { path: layer('web') },
      to: { path: ['^src/db/(?!database\\.ts$)', '^src/smtp/', '^src/payments/(?!gateway\\.ts$)'] },
    },
    {
      name: 'web-below-process',
      severity: 'error',
      comment: 'src/web is assembled by app.ts: it never imports app.ts, server.ts or the CLI.',
      from: { path: layer('web') },
      to: { path: '^src/cli/|^src/(app|server|cli)\\.ts$' },
    },
    {
      name: 'product-code-not-tests',
      severity: 'error',
      comment: 'The product never imports tests, benchmarks or their helpers.',
      from: { path: '^(src|migrations)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-unresolvable-import',
      severity: 'error',
      comment: 'This import names a module that does not exist.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
