// ESLint (flat config): JavaScript's recommended rules plus typescript-eslint's, over every TypeScript source.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'build/**',
      '.docusaurus/**',
      'website/.docusaurus/**',
      'results/**',
      'website/static/**',
      'packages/ssm-core/src/*.generated.js',
      '**/.ipynb_checkpoints/**', // Jupyter's checkpoint copies (notebooks/lib/*.ts opened in Jupyter's editor)
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
);
