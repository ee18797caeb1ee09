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
      '@typescript-eslint/no-unused-vars': [
        'error',
        {argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none'},
      ],
    },
  },
  {
    // Prettier keeps code within 120 columns but cannot break strings, templates or comments: split those by hand
    // (pieces joined with +, a backslash-newline inside a multi-line template). Long regex literals may stay whole.
    // eslint-config-prettier turns max-len off, so it is turned on again after it.
    rules: {'max-len': ['error', {code: 120, ignoreRegExpLiterals: true}]},
  },
  {
    files: ['test/**'],
    // Tests assert on parsed --json output, whose shape they check field by field.
    rules: {'@typescript-eslint/no-explicit-any': 'off'},
  },
)
