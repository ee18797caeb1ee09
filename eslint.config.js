// Lint: typescript-eslint's recommended rules, formatting left to prettier (eslint-config-prettier).
// `npm run lint`; the lead wires it into `npm test` once the whole tree is formatted.
import prettier from 'eslint-config-prettier'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/', 'node_modules/', 'coverage/', '**/*.js', '!eslint.config.js']},
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      // Unused names are mistakes, except deliberate `_`-prefixed placeholders.
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none'}],
    },
  },
  {
    files: ['test/**'],
    // Tests assert on parsed --json output, whose shape they check field by field.
    rules: {'@typescript-eslint/no-explicit-any': 'off'},
  },
)
