/**
 * The manifest written beside an exported dataset (`manifest.json`). It records everything
 * needed to regenerate any image: generator id and version, full params, size, seed and the
 * seed scheme, so `noiselab generate` can resume a folder and refuse one of another dataset.
 */
import { z } from 'zod';
import { sameOutputSince, type GeneratorDefinition } from './generator';

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
	completedAt: z.string().nullable(),
	/**
	 * When this manifest describes one part of a dataset generated in parts (`--part I/N`): the
	 * part and the whole dataset's range; `startIndex`/`count` above are the part's. Null for a
	 * whole dataset (and for manifests written before parts existed).
	 */
	part: z
		.object({
			index: z.number().int().min(1),
			of: z.number().int().min(1),
			datasetStartIndex: z.number().int().nonnegative(),
			datasetCount: z.number().int().positive()
		})
		.nullable()
		.default(null),
	/** SHA-256 of each WebDataset shard by file name, recorded when the shard was written. */
	shardHashes: z.record(z.string(), z.string()).default({})
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
 * changes the pixels or the file names must match. Their generator versions may differ where
 * `findGenerator` knows the generator and no bump since either changed these params' bytes (a
 * variant bump of another variant; see {@link sameOutputSince}).
 */
export function sameDataset(
	a: DatasetManifest,
	b: DatasetManifest,
	findGenerator?: (id: string) => GeneratorDefinition | undefined
): boolean {
	const key = (m: DatasetManifest) =>
		JSON.stringify([
			m.generator.id,
			sortedObject(m.params),
			m.size,
			m.seed,
			m.seedScheme,
			m.format,
			m.quality,
			m.layout
		]);
	if (key(a) !== key(b)) return false;
	if (a.generator.version === b.generator.version) return true;
	const generator = findGenerator?.(a.generator.id);
	return (
		generator !== undefined &&
		sameOutputSince(generator, a.params, a.generator.version) &&
		sameOutputSince(generator, a.params, b.generator.version)
	);
}

function sortedObject(value: Record<string, unknown>): [string, unknown][] {
	return Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
}

/** The file name of a manifest: `manifest.json`, or `manifest.part-0002-of-0004.json` for a part. */
export function manifestFileName(part: { index: number; of: number } | null): string {
	if (!part) return 'manifest.json';
	return `manifest.part-${String(part.index).padStart(4, '0')}-of-${String(part.of).padStart(4, '0')}.json`;
}

/** The shard file holding the images of sub-folder `folderIndex` (images 1000·k …): `shard-00000k.tar`. */
export function shardName(folderIndex: number): string {
	return `shard-${String(folderIndex).padStart(6, '0')}.tar`;
}

/**
 * The index range of part `part` (1-based) of `parts` of a dataset `[startIndex, startIndex +
 * count)`. Parts are contiguous and split on sub-folder boundaries (1000 images), so every
 * sub-folder and every WebDataset shard belongs to exactly one part and parts never write the
 * same file; the sub-folders are shared out as evenly as possible (earlier parts take one more).
 * Throws when there are more parts than sub-folders.
 */
export function partRange(
	startIndex: number,
	count: number,
	part: number,
	parts: number
): { startIndex: number; count: number } {
	if (
		!Number.isInteger(parts) ||
		parts < 1 ||
		!Number.isInteger(part) ||
		part < 1 ||
		part > parts
	) {
		throw new RangeError(`--part must be I/N with 1 ≤ I ≤ N; got ${part}/${parts}.`);
	}
	const end = startIndex + count;
	const firstFolder = Math.floor(startIndex / imagesPerFolder);
	const folders = Math.ceil(end / imagesPerFolder) - firstFolder;
	if (parts > folders) {
		throw new RangeError(
			`${count} images fill ${folders} sub-folder${folders === 1 ? '' : 's'} of ${imagesPerFolder}; a dataset splits into at most that many parts (got ${parts}).`
		);
	}
	const base = Math.floor(folders / parts);
	const extra = folders % parts;
	const before = (k: number) => k * base + Math.min(k, extra);
	const from = Math.max(startIndex, (firstFolder + before(part - 1)) * imagesPerFolder);
	const to = Math.min(end, (firstFolder + before(part)) * imagesPerFolder);
	return { startIndex: from, count: to - from };
}
