/**
 * The dependency rule of docs/architecture.md ("Layers"), checked by `npm run lint:layers` in `npm test`.
 * Imports point one way: web → services → db, payments, smtp, identity, print-systems → domain. config, logger, system-clock and
 * i18n sit beside domain; app.ts, server.ts, cli.ts and cli/ assemble the whole, with shutdown.ts and
 * metrics-app.ts. Each layer's rule lists what it may import (the table's "may import" column), so a
 * new folder or file is forbidden until the table says otherwise. Each rule's name and comment are
 * what a failing build prints; test/unit/dependency-rule.test.ts breaks every rule once.
 * Circles between folders are checked by the second command of lint:layers (.dependency-cruiser-folder-circles.mjs).
 */
const layer = (name) => `^src/${name}/`;
/** Everything of src/ that is not one of the paths given: the modules a layer may not import. */
const srcExcept = (...allowed) => ({ path: '^src/', pathNot: allowed });

const domainCoreModules = ['crypto', 'path', 'util', 'url', 'buffer', 'events', 'assert', 'zlib', 'net'];
/** Libraries that compute on values in memory: validation, password hashing, images in buffers, CSV text, one-time codes. */
const domainPackages = ['zod', 'argon2', 'sharp', 'csv-parse', 'otpauth'];
/** Database and mail drivers: the web layer reaches them through src/services only. */
const drivers = ['knex', 'pg', 'sqlite3', 'nodemailer'];

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
      comment: 'src/domain holds rules without I/O: of src/ it imports only other domain modules.',
      from: { path: layer('domain') },
      to: srcExcept(layer('domain')),
    },
    {
      name: 'domain-uses-computing-packages-only',
      severity: 'error',
      comment: `src/domain does no I/O: of the packages it imports only ${domainPackages.join(', ')}. A use case that needs another belongs in src/services/<capability>/.`,
      from: { path: layer('domain') },
      to: { path: '(^|/)node_modules/', pathNot: `(^|/)node_modules/(${domainPackages.join('|')})/` },
    },
    {
      name: 'domain-uses-computing-node-modules-only',
      severity: 'error',
      comment: `src/domain does no I/O and reads no clock: of Node's modules it imports only ${domainCoreModules.join(', ')}. A use case that needs another belongs in src/services/<capability>/.`,
      from: { path: layer('domain') },
      to: { dependencyTypes: ['core'], pathNot: `^(node:)?(${domainCoreModules.join('|')})$` },
    },
    {
      name: 'domain-opens-no-socket',
      severity: 'error',
      comment: 'src/domain opens no socket: node:net is allowed only for its pure address helpers (isIPv6) in login-throttle.ts.',
      from: { path: layer('domain'), pathNot: '^src/domain/people/login-throttle\\.ts$' },
      to: { dependencyTypes: ['core'], path: '^(node:)?net$' },
    },
    {
      name: 'foundations-stand-on-domain',
      severity: 'error',
      comment: 'config.ts, logger.ts, system-clock.ts and src/i18n are used by the layers above them: they import only domain and each other.',
      from: { path: ['^src/(config|logger|system-clock)\\.ts$', layer('i18n')] },
      to: srcExcept(layer('domain'), layer('i18n'), '^src/(config|logger|system-clock)\\.ts$'),
    },
    {
      name: 'repositories-stand-on-domain',
      severity: 'error',
      comment: 'src/db stores and reads rows: it imports only domain, config.ts and other db modules. It calls no gateway, service or web module, and logs and words nothing (the Locale type is in domain/shared/locale.ts): a use case that needs more belongs in src/services.',
      from: { path: layer('db') },
      to: srcExcept(layer('db'), layer('domain'), '^src/config\\.ts$'),
    },
    {
      name: 'gateways-stand-on-domain',
      severity: 'error',
      comment: 'src/payments, src/smtp, src/identity and src/print-systems talk to one kind of outside system each: they import only domain, config.ts, i18n and their own modules, never each other, the database, services or web. A use case that needs two belongs in src/services.',
      from: { path: '^src/(payments|smtp|identity|print-systems)/' },
      to: srcExcept('^src/$1/', layer('domain'), layer('i18n'), '^src/config\\.ts$'),
    },
    {
      name: 'services-below-web',
      severity: 'error',
      comment: 'src/services (use cases) import db, gateways, domain, config.ts, logger.ts and i18n, never the web layer, the clock or the process set-up: pass what they need as a parameter.',
      from: { path: layer('services') },
      to: srcExcept('^src/(services|db|payments|smtp|identity|print-systems|domain|i18n)/', '^src/(config|logger)\\.ts$'),
    },
    {
      name: 'web-through-services',
      severity: 'error',
      comment: 'src/web reaches data and outside systems through src/services (e.g. services/<capability>/records.ts); of src/db it names only the connection (db/database.ts), of src/payments and src/identity only the contracts (payments/gateway.ts, identity/provider.ts), and never the clock or the process set-up (app.ts assembles it).',
      from: { path: layer('web') },
      to: srcExcept('^src/(web|services|domain|i18n)/', '^src/(config|logger)\\.ts$', '^src/db/database\\.ts$', '^src/payments/gateway\\.ts$', '^src/identity/provider\\.ts$'),
    },
    {
      name: 'web-uses-no-driver',
      severity: 'error',
      comment: `src/web does not import ${drivers.join(', ')}: it writes no SQL and sends no mail itself, src/services does.`,
      from: { path: layer('web') },
      to: { path: `(^|/)node_modules/(${drivers.join('|')})/` },
    },
    {
      name: 'migrations-stand-on-domain',
      severity: 'error',
      comment: 'A migration must keep doing what it did when it was written: of src/ it imports only domain and db/database.ts, never a repository, a service or the process set-up, whose later changes would change what an old migration does.',
      from: { path: '^migrations/' },
      to: srcExcept(layer('domain'), '^src/db/database\\.ts$'),
    },
    {
      name: 'cups-backend-stands-alone',
      severity: 'error',
      comment: 'src/cups-backend is installed alone on a print server and talks to the portal only through its public API: of src/ it imports only its own modules, and of the packages only zod (the one the install script copies).',
      from: { path: layer('cups-backend') },
      to: { pathNot: [layer('cups-backend'), '(^|/)node_modules/zod/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'nothing-imports-the-cups-backend',
      severity: 'error',
      comment: 'src/cups-backend is a program of its own for print servers, not a module of the portal: the portal reaches it, and it the portal, through /api/v1 only.',
      from: { path: '^(src|migrations)/', pathNot: layer('cups-backend') },
      to: { path: layer('cups-backend') },
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
