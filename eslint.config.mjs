// ESLint (flat config): the recommended rules for the dashboard's browser modules and for the
// dashboard's tests (Node). `npx eslint crates/server/dashboard tests-ui` runs in scripts/test.sh.
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['node_modules/**', 'target/**', 'artifacts/**', 'ui/**', 'src-tauri/**'] },
  js.configs.recommended,
  {
    files: ['crates/server/dashboard/**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.browser } },
    rules: { 'no-unused-vars': ['error', { args: 'none' }] },
  },
  {
    // The public self-completion page (issue 15): a plain browser script.
    files: ['crates/server/public/**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'script', globals: { ...globals.browser } },
  },
  {
    files: ['tests-ui/**/*.mjs', 'eslint.config.mjs'],
    // Callbacks of page.evaluate() run in the browser.
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.node, ...globals.browser } },
  },
];
