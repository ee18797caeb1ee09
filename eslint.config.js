// Lint: typescript-eslint's recommended rules, formatting left to prettier (eslint-config-prettier).
// `npm run lint` (which scripts/test.sh runs) also runs madge: no import cycles in src/ (see .madgerc).
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
    // Issue 17: a source file reads in one sitting and a function on one screen. Every line counts (blank lines and
    // comments too): the limits are on what a reader has to get through.
    files: ['src/**'],
    rules: {
      'max-lines': ['error', {max: 450, skipBlankLines: false, skipComments: false}],
      'max-lines-per-function': ['error', {max: 100, skipBlankLines: false, skipComments: false}],
    },
  },
  {
    files: ['test/**'],
    // Tests assert on parsed --json output, whose shape they check field by field.
    rules: {'@typescript-eslint/no-explicit-any': 'off'},
  },
)
