// Lint rules, including the layer import rules: core imports nothing of ours outside core;
// main, preload and renderer may import core; renderer and main never import each other.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const layerRule = (forbidden, why) => ({
	'no-restricted-imports': [
		'error',
		{ patterns: forbidden.map((group) => ({ group: [group], message: why })) }
	]
});

export default tseslint.config(
	{ ignores: ['dist/', 'release/', 'node_modules/', 'test-results/', '.noiselab-dev/'] },
	js.configs.recommended,
	...tseslint.configs.strict,
	...svelte.configs['flat/recommended'],
	{
		languageOptions: { globals: { ...globals.node } },
		rules: {
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
			'@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }]
		}
	},
	{
		files: ['**/*.svelte', '**/*.svelte.ts'],
		languageOptions: {
			parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] }
		}
	},
	{
		files: ['src/core/**'],
		languageOptions: { globals: {} },
		rules: {
			...layerRule(
				[
					'**/main/**',
					'**/renderer/**',
					'**/preload/**',
					'node:*',
					'fs',
					'path',
					'os',
					'electron',
					'better-sqlite3'
				],
				'src/core is platform-free: it may not import Node, Electron or another layer.'
			),
			'no-restricted-globals': ['error', 'process', 'require', 'Buffer', 'window', 'document'],
			'no-restricted-properties': [
				'error',
				{ object: 'Math', property: 'random', message: 'Core is pure: take a seeded generator.' },
				{ object: 'Date', property: 'now', message: 'Core is pure: take the time as an argument.' }
			]
		}
	},
	{
		files: ['src/renderer/**'],
		languageOptions: { globals: { ...globals.browser } },
		rules: layerRule(
			['**/main/**', '**/preload/**', 'node:*', 'electron', 'better-sqlite3', 'ws'],
			'The renderer talks to the app only through the API client.'
		)
	},
	{
		files: ['src/preload/**'],
		rules: layerRule(['**/main/**', '**/renderer/**'], 'The preload only bridges the contract.')
	},
	{
		files: ['src/main/**'],
		rules: layerRule(
			['**/renderer/**', '**/preload/**'],
			'Main reaches the renderer only through the API.'
		)
	}
);
