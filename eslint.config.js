import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const domainReadsNoClock = 'src/domain is handed the time: take `now` as a parameter, read from the injected Clock (src/domain/time/clock.ts), or move the code to src/services.';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'dist/', 'dist.*/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    // src/domain is handed the time and does no I/O (docs/architecture.md, "Layers"): .dependency-cruiser.cjs
    // checks what it imports, this what it reaches without an import.
    files: ['src/domain/**'],
    rules: {
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: domainReadsNoClock }],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: domainReadsNoClock },
        { selector: "CallExpression[callee.name='Date']", message: domainReadsNoClock },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'performance', message: domainReadsNoClock },
        { name: 'process', message: 'src/domain reads no environment or process state: take the value as a parameter (config.ts reads the environment), or move the code to src/services.' },
        ...['setTimeout', 'setInterval', 'setImmediate'].map((name) => ({ name, message: 'src/domain does not wait or schedule: move the code to src/services (take the time from the injected Clock).' })),
        { name: 'fetch', message: 'src/domain does no I/O: move the code to src/services.' },
      ],
    },
  },
  // Scripts a theme serves to browsers (the top-up page's summary).
  { files: ['themes/**/*.js'], languageOptions: { globals: { ...globals.browser } } },
  { files: ['src/server.ts', 'src/payments/paypal/simulator/main.ts', 'test/**', 'scripts/**', 'bench/**'], rules: { 'no-console': 'off' } },
  { files: ['test/**'], languageOptions: { globals: { ...globals.mocha } }, rules: { '@typescript-eslint/no-unused-expressions': 'off' } },
);
