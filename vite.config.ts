import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

/** The renderer: a static bundle with relative URLs, served by `noiselab://app` and by web mode. */
export default defineConfig({
	root: 'src/renderer',
	base: './',
	plugins: [svelte()],
	build: {
		outDir: '../../dist/renderer',
		emptyOutDir: true,
		target: 'es2023',
		// No inline scripts: the CSP forbids them.
		modulePreload: { polyfill: false },
		assetsInlineLimit: 0,
		// The bundler's plugin-timing advice is for plugin authors; it only adds noise to builds.
		rolldownOptions: {
			checks: { bundlerTimings: false },
			// chart.js in a chunk of its own: the app's code and the charting library are cached
			// and updated apart, and neither alone passes Vite's 500 kB warning.
			output: { codeSplitting: { groups: [{ name: 'chart', test: /node_modules[\\/]chart\.js/ }] } }
		}
	}
});
