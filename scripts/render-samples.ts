/**
 * `npm run samples`: renders the sample images of every preset.
 *
 * - `resources/thumbnails/<preset>.png`: the app's preset thumbnail, 96×96, seed 0, index 0.
 * - `docs/generators/<preset>.png`: the README's mosaic, images 0–3 (seed 0) at 128 px in a 2×2
 *   grid with a 4 px white gap (260×260), so readers see how much images of one preset vary.
 *
 * Size rule: every image is rendered at the preset's size capped at 128 px (all presets are 128
 * or 256 px, so in practice at 128 px), and the thumbnail is the same index-0 image downscaled
 * to 96 px with sharp's Lanczos-3 kernel. Rendering at 96 directly would change what some
 * families draw (sizes that are not powers of two are centre-cropped from the next power of two;
 * fractal padding and pyramid depth depend on the size), so the thumbnail would not match the
 * mosaic's first image.
 *
 * Three presets cost minutes to hours per image at their paper settings on a CPU; their samples
 * use the cheaper settings in {@link cheaperSettings}, which the script prints and the README
 * captions state. Everything else uses the preset as is.
 *
 * `feature_vis-dead_leaves` visualises a trained encoder: pass `--encoder FILE.nlck`, a checkpoint
 * of a run trained on dead_leaves-mixed (in `<data>/runs/run-N/checkpoints/`); without it the
 * preset is skipped.
 *
 * Options: --preset a,b (render only these presets), --encoder FILE.nlck.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import sharp from 'sharp';
import type { RgbImage } from '../src/core/generators/image';
import { findGenerator, findPreset, presets, resolveConfig } from '../src/core/generators/registry';
import { installEncoderWeightsSource } from '../src/core/generators/trained-encoders';
import { decodeCheckpoint } from '../src/core/training/checkpoint';
import type { ModelPresetId } from '../src/core/training/config';

const seed = 0;
const maxRenderSize = 128;
const thumbnailSize = 96;
const mosaicGap = 4;
const mosaicIndices = [0, 1, 2, 3] as const;

/** Overrides that make the expensive presets render in seconds to minutes instead of hours. */
const cheaperSettings: Readonly<Record<string, Record<string, unknown>>> = {
	// ResNet-50 with 128 Adam steps is many minutes per image on wasm.
	'feature_vis-random': { network: 'small', steps: 64 },
	// The original variant's cost grows with the square of the width: about a minute per image.
	'stylegan-random': { channel_base: 2048 },
	// The pool of 1000 statistical textures is built before the first image.
	'dead_leaves-textures': { texturePoolSize: 64 }
};

const root = process.cwd();
const thumbnailDir = path.join(root, 'resources', 'thumbnails');
const mosaicDir = path.join(root, 'docs', 'generators');

function rawInput(image: RgbImage): sharp.Sharp {
	return sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
		raw: { width: image.size, height: image.size, channels: 3 }
	});
}

/** Makes tfjs usable for feature visualisation: wasm, else the plain cpu backend. */
async function selectTfjsBackend(): Promise<string> {
	try {
		if (await tf.setBackend('wasm')) return 'wasm';
	} catch {
		// The wasm binary may be missing from a broken install; cpu always works.
	}
	await tf.setBackend('cpu');
	return 'cpu';
}

async function writeThumbnail(image: RgbImage, file: string): Promise<void> {
	await rawInput(image)
		.resize(thumbnailSize, thumbnailSize, { kernel: 'lanczos3' })
		.png({ compressionLevel: 9 })
		.toFile(file);
}

async function writeMosaic(images: readonly RgbImage[], file: string): Promise<void> {
	const cell = images[0]?.size ?? maxRenderSize;
	const side = 2 * cell + mosaicGap;
	const tiles = await Promise.all(
		images.map(async (image, i) => ({
			input: await rawInput(image).png().toBuffer(),
			left: (i % 2) * (cell + mosaicGap),
			top: Math.floor(i / 2) * (cell + mosaicGap)
		}))
	);
	await sharp({
		create: { width: side, height: side, channels: 3, background: { r: 255, g: 255, b: 255 } }
	})
		.composite(tiles)
		.png({ compressionLevel: 9 })
		.toFile(file);
}

/** Installs a checkpoint file as the trained encoder; returns its pinned reference. */
function installEncoder(file: string): string {
	const bytes = new Uint8Array(fs.readFileSync(file));
	const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
	const { meta, tensors } = decodeCheckpoint(bytes);
	installEncoderWeightsSource(() => ({ model: meta.model as ModelPresetId, tensors }));
	console.log(`Trained encoder: ${file} (${String(meta.model)}, step ${String(meta.step)})`);
	return `run:${Number(meta.runId ?? 1)}@${sha256}`;
}

function needsEncoder(name: string): boolean {
	const generator = findGenerator(findPreset(name)?.generator ?? '');
	return Object.values(generator?.params ?? {}).some((spec) => spec.kind === 'encoder');
}

async function renderPreset(name: string, encoder: string | null): Promise<void> {
	const preset = findPreset(name);
	if (!preset) throw new Error(`Unknown preset "${name}".`);
	if (needsEncoder(name) && encoder === null) {
		console.log(
			`${name.padEnd(28)} skipped: pass --encoder FILE.nlck (a run on dead_leaves-mixed)`
		);
		return;
	}
	const overrides = {
		...cheaperSettings[name],
		...(needsEncoder(name) ? { encoder } : {})
	};
	const resolved = resolveConfig({
		preset: name,
		params: overrides,
		size: Math.min(preset.size, maxRenderSize)
	});
	if (!resolved.ok) throw new Error(resolved.message);
	const { generator, params, size } = resolved.value;
	const deviation = Object.entries(overrides)
		.filter(([key]) => key !== 'encoder')
		.map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
		.join(', ');
	const started = performance.now();
	const images: RgbImage[] = [];
	for (const index of mosaicIndices)
		images.push(await generator.generate(params, seed, index, size));
	const first = images[0];
	if (!first) throw new Error(`No image rendered for ${name}.`);
	await writeThumbnail(first, path.join(thumbnailDir, `${name}.png`));
	await writeMosaic(images, path.join(mosaicDir, `${name}.png`));
	const seconds = (performance.now() - started) / 1000;
	console.log(
		`${name.padEnd(28)} ${`${seconds.toFixed(seconds < 10 ? 2 : 1)} s`.padStart(9)}  ${size} px` +
			(deviation ? `  cheaper sample settings: ${deviation}` : '')
	);
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: { preset: { type: 'string' }, encoder: { type: 'string' } }
	});
	const wanted = values.preset?.split(',').filter(Boolean) ?? presets.map((preset) => preset.name);
	const unknown = wanted.filter((name) => !findPreset(name));
	if (unknown.length > 0) {
		console.error(
			`Unknown preset(s): ${unknown.join(', ')}. Presets: ${presets.map((p) => p.name).join(', ')}.`
		);
		process.exit(2);
	}
	fs.mkdirSync(thumbnailDir, { recursive: true });
	fs.mkdirSync(mosaicDir, { recursive: true });
	const encoder = values.encoder === undefined ? null : installEncoder(values.encoder);
	const family = (name: string) => findGenerator(findPreset(name)?.generator ?? '')?.family;
	if (wanted.some((name) => family(name) === 'feature_vis')) {
		console.log(`tfjs backend for feature visualisation: ${await selectTfjsBackend()}`);
	}
	console.log(
		`Rendering seed ${seed}, images 0–3 at min(preset size, ${maxRenderSize}) px: ` +
			`thumbnails (${thumbnailSize} px, Lanczos-3) in ${path.relative(root, thumbnailDir)}, ` +
			`mosaics in ${path.relative(root, mosaicDir)}`
	);
	const started = performance.now();
	for (const name of wanted) await renderPreset(name, encoder);
	console.log(`Total: ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
