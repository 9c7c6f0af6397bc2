/**
 * Grad-CAM side by side for two or more encoders on one image, as a PNG grid: for each encoder
 * the image and its heatmap overlay; below, the difference of the first two maps. The target is
 * each encoder's own embedding (projection of fc8 on itself), so encoders without a probe can be
 * explained; probe-class targets come with the Explain area.
 */
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import type { CamMethod } from '../../core/explain/gradcam';
import { computeCam, upsampleBilinear } from '../../core/explain/gradcam';
import { deletionInsertion, spearman } from '../../core/explain/sanity';
import { writeCentreView } from '../../core/evaluation/features';
import type { SourceImage } from '../../core/training/augment';
import type { EncoderLayer, SmallAlexNet } from '../../core/training/model';

/** Display size of each tile of the grid. */
const tile = 160;

/** One encoder's explanation. */
export interface EncoderExplanation {
	label: string;
	/** The map at display size, in [0, 1]. */
	map: Float32Array;
	score: number;
	deletion: number;
	insertion: number;
}

/** What {@link explainMaps} returns: the image at display size, the maps and their agreement. */
export interface ExplainedImage {
	/** Display size of `rgb` and of every map. */
	size: number;
	rgb: Uint8Array;
	encoders: EncoderExplanation[];
	/** Spearman rank correlation of the first two maps (null with one encoder; NaN for a flat map). */
	agreement: number | null;
}

/** Computes each encoder's map for `image`, at display size. */
export async function explainMaps(
	image: SourceImage,
	encoders: readonly { label: string; encoder: SmallAlexNet }[],
	options: { method: CamMethod; layer: EncoderLayer }
): Promise<ExplainedImage> {
	const explained: EncoderExplanation[] = [];
	for (const { label, encoder } of encoders) {
		const size = encoder.spec.inputSize;
		const input = new Float32Array(size * size * 3);
		writeCentreView(image, size, input, 0, new Uint8Array(size * size * 3));
		const embedding = tf.tidy(() =>
			encoder.forward(tf.tensor4d(input, [1, size, size, 3]), { training: false, layer: 'fc8' })
		);
		const reference = new Float32Array(embedding.dataSync());
		embedding.dispose();
		const target = { kind: 'embedding' as const, reference, measure: 'projection' as const };
		const cam = computeCam(encoder, input, {
			method: options.method,
			layer: options.layer,
			target
		});
		const faithfulness = deletionInsertion(encoder, input, cam, target);
		explained.push({
			label,
			map: normalise(upsampleBilinear(cam.raw, cam.height, cam.width, tile)),
			score: cam.score,
			deletion: faithfulness.deletion,
			insertion: faithfulness.insertion
		});
	}
	const [first, second] = explained;
	const agreement = first && second ? spearman(first.map, second.map) : null;
	const rgb = new Uint8Array(
		await sharp(Buffer.from(image.data), {
			raw: { width: image.width, height: image.height, channels: 3 }
		})
			.resize(tile, tile, { fit: 'cover' })
			.raw()
			.toBuffer()
	);
	return { size: tile, rgb, encoders: explained, agreement };
}

function normalise(map: Float32Array): Float32Array {
	let low = Infinity;
	let high = -Infinity;
	for (const value of map) {
		low = Math.min(low, value);
		high = Math.max(high, value);
	}
	return map.map((value) => (value - low) / (high - low + 1e-7));
}

/** The "jet" colour map, as pytorch-grad-cam overlays it. */
function jet(value: number): [number, number, number] {
	const channel = (offset: number) =>
		Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * value - offset))));
	return [channel(3), channel(2), channel(1)];
}

/** The grid as a PNG. Rows: one per encoder (image, overlay); the last the |A − B| difference map. */
export async function drawGrid(explained: ExplainedImage): Promise<Buffer> {
	const { encoders, rgb: base } = explained;
	const rows = encoders.length + (encoders.length >= 2 ? 1 : 0);
	const width = 2 * tile;
	const canvas = Buffer.alloc(width * rows * tile * 3, 255);
	const put = (row: number, column: number, pixel: (i: number) => [number, number, number]) => {
		for (let y = 0; y < tile; y++) {
			for (let x = 0; x < tile; x++) {
				const [r, g, b] = pixel(y * tile + x);
				const at = ((row * tile + y) * width + column * tile + x) * 3;
				canvas[at] = r;
				canvas[at + 1] = g;
				canvas[at + 2] = b;
			}
		}
	};
	const original = (i: number): [number, number, number] => [
		base[3 * i] as number,
		base[3 * i + 1] as number,
		base[3 * i + 2] as number
	];
	encoders.forEach((encoder, row) => {
		put(row, 0, original);
		put(row, 1, (i) => {
			const [r, g, b] = jet(encoder.map[i] as number);
			const [or, og, ob] = original(i);
			return [(r + or) >> 1, (g + og) >> 1, (b + ob) >> 1];
		});
	});
	const [first, second] = encoders;
	if (first && second) {
		put(encoders.length, 0, original);
		put(encoders.length, 1, (i) =>
			jet(Math.abs((first.map[i] as number) - (second.map[i] as number)))
		);
	}
	return sharp(canvas, { raw: { width, height: rows * tile, channels: 3 } })
		.png()
		.toBuffer();
}
