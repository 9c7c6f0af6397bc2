/**
 * The paper's published small-scale results, as data: linear-probe top-1 on ImageNet-100 of
 * the AlexNet-like encoder trained with alignment + uniformity on 105k images of each source
 * (`paper-protocol.md` §5.1). A study shows these beside its own numbers and ranks against them.
 */

/** Where the numbers come from, for the table, the figure and every export. */
export const paperCitation = {
	short: 'Baradad et al., NeurIPS 2021',
	full: 'M. Baradad, J. Wulff, T. Wang, P. Isola, A. Torralba. Learning to See by Looking at Noise. NeurIPS 2021.',
	source:
		'Project page figure results_imagenet100.jpg (mbaradad.github.io/learning_with_noise), bars read by pixel measurement, ±0.3 points; the camera-ready may differ slightly.',
	metric: 'ImageNet-100 linear-probe top-1 (%), AlexNet, 105k images, 200 epochs'
} as const;

/** The groups of the paper's bar chart, in its order; the figure groups bars by these. */
export const paperFamilies = [
	'Baselines',
	'Procedural',
	'Statistical',
	'Dead leaves',
	'Feature vis.',
	'StyleGAN',
	'Real images'
] as const;

/** One of {@link paperFamilies}. */
export type PaperFamily = (typeof paperFamilies)[number];

/** One bar of the paper's chart. */
export interface PaperResult {
	/** The bar's label in the paper. */
	label: string;
	family: PaperFamily;
	/** Top-1 in percent. */
	top1: number;
	/**
	 * `same`: our source is the paper's dataset recipe. `approximate`: the closest thing we have,
	 * with `note` saying how it differs; still ranked, and marked as such wherever shown.
	 */
	match: 'same' | 'approximate';
	note?: string;
}

/** The key under which a study's random-init control finds its paper number. */
export const randomInitKey = 'random-init';

/**
 * The paper's numbers by the name of our matching source: a generator preset, or
 * {@link randomInitKey}. Sources without an entry (white noise, custom parameters, real-image
 * folders) have no published number.
 */
export const paperResults: Readonly<Record<string, PaperResult>> = {
	'control-mean_colour': {
		label: 'Mean colors',
		family: 'Baselines',
		top1: 5.0,
		match: 'approximate',
		note: 'The paper’s baseline is computed from mean colours (how is not in its code); ours trains the encoder on flat images of natural mean colours.'
	},
	[randomInitKey]: {
		label: 'CNN – Rand',
		family: 'Baselines',
		top1: 21.1,
		match: 'approximate',
		note: 'Presumably the untrained AlexNet; ours is the same encoder at its initialisation, per seed.'
	},
	'fractaldb-1k': {
		label: 'FractalDB',
		family: 'Procedural',
		top1: 33.4,
		match: 'approximate',
		note: 'Which FractalDB variant and subset the paper used is not stated; ours is FractalDB-1k’s recipe at 128 px.'
	},
	'stat-spectrum': { label: 'Spectrum', family: 'Statistical', top1: 30.6, match: 'same' },
	'stat-wmm': { label: 'WMM', family: 'Statistical', top1: 31.4, match: 'same' },
	'stat-spectrum_color': {
		label: 'Spectrum + Color',
		family: 'Statistical',
		top1: 36.7,
		match: 'same'
	},
	'stat-spectrum_color_wmm': {
		label: 'Spectrum + Color + WMM',
		family: 'Statistical',
		top1: 39.9,
		match: 'same'
	},
	'dead_leaves-squares': { label: 'Squares', family: 'Dead leaves', top1: 35.2, match: 'same' },
	'dead_leaves-oriented': { label: 'Oriented', family: 'Dead leaves', top1: 37.4, match: 'same' },
	'dead_leaves-mixed': { label: 'Shapes', family: 'Dead leaves', top1: 38.9, match: 'same' },
	'dead_leaves-textures': { label: 'Textures', family: 'Dead leaves', top1: 40.9, match: 'same' },
	'feature_vis-random': { label: 'Random', family: 'Feature vis.', top1: 34.6, match: 'same' },
	'feature_vis-dead_leaves': {
		label: 'Dead leaves',
		family: 'Feature vis.',
		top1: 39.2,
		match: 'approximate',
		note: 'The paper visualised a ResNet-50 trained with MoCo v2 on 1.3M dead-leaves images; ours visualises an encoder trained in NoiseLab.'
	},
	'stylegan-random': {
		label: 'Random (default init)',
		family: 'StyleGAN',
		top1: 34.0,
		match: 'same'
	},
	'stylegan-sparse': { label: 'Sparse', family: 'StyleGAN', top1: 42.0, match: 'same' },
	'stylegan-highfreq': { label: 'High freq.', family: 'StyleGAN', top1: 42.1, match: 'same' },
	'stylegan-oriented': { label: 'Oriented', family: 'StyleGAN', top1: 43.4, match: 'same' }
};

/** The paper's number for a source key, or undefined. */
export function paperResultFor(key: string): PaperResult | undefined {
	return Object.hasOwn(paperResults, key) ? paperResults[key] : undefined;
}
