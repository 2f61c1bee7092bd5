// ESLint (flat config): the recommended JavaScript and typescript-eslint rules for src/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
    { ignores: ['out/**', 'node_modules/**', 'bundled/**'] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        files: ['src/**/*.ts'],
        rules: {
            eqeqeq: 'error',
            'no-console': 'error',
        },
    },
);
