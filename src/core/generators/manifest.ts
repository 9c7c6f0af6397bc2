/**
 * The manifest written beside an exported dataset (`manifest.json`). It records everything
 * needed to regenerate any image: generator id and version, full params, size, seed and the
 * seed scheme, so `noiselab generate` can resume a folder and refuse one of another dataset.
 */
import { z } from 'zod';

/** How image `index` of a dataset with `seed` gets its randomness. */
export const seedScheme =
	'Random(seed, index): xoshiro128** seeded through splitmix32 (src/core/generators/random.ts)';

/** File formats an export can write. */
export const imageFormats = ['png', 'jpg'] as const;

/** One of {@link imageFormats}. */
export type ImageFormat = (typeof imageFormats)[number];

/** Images per sub-folder, as in the paper's released datasets. */
export const imagesPerFolder = 1000;

/** The manifest's schema. */
export const datasetManifestSchema = z.object({
	kind: z.literal('noiselab-dataset'),
	manifestVersion: z.literal(1),
	appVersion: z.string(),
	generator: z.object({ id: z.string(), version: z.number().int() }),
	preset: z.string().nullable(),
	params: z.record(z.string(), z.unknown()),
	size: z.number().int(),
	seed: z.number().int(),
	seedScheme: z.string(),
	startIndex: z.number().int().nonnegative(),
	count: z.number().int().positive(),
	format: z.enum(imageFormats),
	quality: z.number().int().min(1).max(100),
	layout: z.string(),
	shards: z.boolean(),
	complete: z.boolean(),
	written: z.number().int().nonnegative(),
	createdAt: z.string(),
	completedAt: z.string().nullable()
});

/** See {@link datasetManifestSchema}. */
export type DatasetManifest = z.infer<typeof datasetManifestSchema>;

/** The relative path of image `index`: `00001000/00001234.jpg` (8-digit folders of 1000). */
export function imagePath(index: number, format: ImageFormat): string {
	const folder = Math.floor(index / imagesPerFolder) * imagesPerFolder;
	return `${String(folder).padStart(8, '0')}/${String(index).padStart(8, '0')}.${format}`;
}

/** The layout description recorded in manifests. */
export const layoutDescription =
	'NNNNNNNN/IIIIIIII.ext: sub-folders of 1000 images named by their first index, 8 digits';

/**
 * Whether two manifests describe the same dataset (so a folder can be resumed): everything that
 * changes the pixels or the file names must match.
 */
export function sameDataset(a: DatasetManifest, b: DatasetManifest): boolean {
	const key = (m: DatasetManifest) =>
		JSON.stringify([
			m.generator,
			sortedObject(m.params),
			m.size,
			m.seed,
			m.seedScheme,
			m.format,
			m.quality,
			m.layout
		]);
	return key(a) === key(b);
}

function sortedObject(value: Record<string, unknown>): [string, unknown][] {
	return Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
}
