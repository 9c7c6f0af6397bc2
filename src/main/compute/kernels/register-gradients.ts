/**
 * Makes every gradient tfjs-core defines available in Node.
 *
 * tfjs-core 4.22 registers its gradients only from its ES-module entry (`dist/index.js` →
 * `dist/register_all_gradients.js` → `dist/gradients/*_grad.js`). Node loads the CommonJS bundle
 * `dist/tf-core.node.js` ("main"), which contains no gradient at all, and the package ships no
 * CommonJS copy of the gradient files. The ES-module files cannot be loaded by Node as they are:
 * their relative imports omit the `.js` extension, which Node's ES-module resolver refuses. The
 * esbuild bundles keep `@tensorflow/*` external, so bundling them is not an option either.
 *
 * So this module loads `register_all_gradients.js` with `require` (Node ≥ 22.12 loads an
 * ES module synchronously; the package has no `"type"`, and Node detects the module syntax) while
 * a resolve hook, active only for that call, adds the missing `.js` to relative imports made from
 * inside tfjs-core's `dist/`. This loads a second, ES-module copy of the parts of tfjs-core the
 * gradients use. That is harmless: tfjs-core keeps its engine (`_tfengine`), its kernel and
 * gradient registries and its Tensor class identity (`Symbol.hasInstance`) on the global object,
 * precisely so that several copies share them. The gradients register into that shared registry
 * and run their ops through the one engine, on whatever backend is active.
 */
import { createRequire, registerHooks } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';

const load = createRequire(__filename);

let registered = false;

/** Kernels whose gradients this module checks for after loading, to fail loudly if none came. */
const sentinelKernels = [tf.Conv2D, tf.MaxPool, tf.Relu, tf.BatchMatMul, tf.Mean] as const;

/**
 * Registers all of tfjs-core's gradients (about 100 kernels) in the shared gradient registry.
 * Idempotent and synchronous; the first call costs about half a second (it loads the
 * ES-module files). Any gradient registered earlier for the same kernel, e.g. the few that
 * feature visualisation registers itself, is replaced by tfjs-core's own, which is complete
 * (feature visualisation's Conv2D gradient, for one, has no filter gradient).
 */
export function registerAllGradients(): void {
	if (registered) return;
	if (typeof registerHooks !== 'function') {
		throw new Error(
			`Loading tfjs-core's gradients needs module.registerHooks (Node ≥ 22.15); this is Node ${process.versions.node}.`
		);
	}
	const dist = path.join(path.dirname(load.resolve('@tensorflow/tfjs-core/package.json')), 'dist');
	const distUrlPrefix = `${pathToFileURL(dist).href}/`;
	const hooks = registerHooks({
		resolve(specifier, context, nextResolve) {
			const fromTfjsCore = context.parentURL?.startsWith(distUrlPrefix) ?? false;
			if (fromTfjsCore && specifier.startsWith('.') && !specifier.endsWith('.js')) {
				return nextResolve(`${specifier}.js`, context);
			}
			return nextResolve(specifier, context);
		}
	});
	try {
		load(path.join(dist, 'register_all_gradients.js'));
	} finally {
		hooks.deregister();
	}
	const missing = sentinelKernels.filter((name) => tf.getGradient(name) === undefined);
	if (missing.length > 0) {
		throw new Error(
			`tfjs-core's gradients did not register (missing: ${missing.join(', ')}); ` +
				'the @tensorflow/tfjs-core install may differ from 4.22.'
		);
	}
	registered = true;
}
