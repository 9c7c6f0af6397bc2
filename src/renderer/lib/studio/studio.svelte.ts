/**
 * The Generator Studio's state: the catalogue, the current configuration, the preview grid,
 * diagnostics and saved presets. Rendering happens in the generator worker; this class only
 * asks, and drops answers that a newer request has superseded.
 */
import type { ApiClient } from '../../../core/api/client';
import type {
	GeneratorInfo,
	PresetInfo,
	PreviewImageData,
	UserPreset
} from '../../../core/api/generators';
import type {
	GeneratorRequirement,
	GeneratorRequirements
} from '../../../core/api/trained-encoders';
import type { RunRecord } from '../../../core/api/training';
import type { DatasetDiagnostics } from '../../../core/diagnostics/diagnostics';
import { PrecisionRecallState } from '../analysis/precision-recall.svelte';

/** What the sidebar has selected. */
export type StudioSelection = { kind: 'preset'; name: string } | { kind: 'user'; id: number };

/** Grid sizes the toolbar offers (images per side). */
export const gridSides = [2, 3, 4, 5, 6] as const;

function defaultsOf(generator: GeneratorInfo): Record<string, unknown> {
	return Object.fromEntries(
		Object.entries(generator.params).map(([name, spec]) => [
			name,
			Array.isArray(spec.default) ? [...spec.default] : spec.default
		])
	);
}

function randomSeed(): number {
	return crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;
}

/**
 * All state of the Studio page. Data that is replaced whole (catalogue, images, diagnostics) is
 * `$state.raw`: no deep proxies over pixel arrays, and chart.js may annotate the arrays it plots.
 */
export class StudioState {
	generators = $state.raw<GeneratorInfo[]>([]);
	presets = $state.raw<PresetInfo[]>([]);
	userPresets = $state.raw<UserPreset[]>([]);
	selection = $state<StudioSelection | null>(null);
	generatorId = $state('');
	/** The selected preset's values, for per-parameter reset. */
	baseParams = $state<Record<string, unknown>>({});
	params = $state<Record<string, unknown>>({});
	size = $state(128);
	seed = $state(0);
	gridSide = $state(4);
	images = $state.raw<PreviewImageData[]>([]);
	rendering = $state(false);
	/** Milliseconds from the request to the pixels arriving, for the last grid. */
	latencyMs = $state<number | null>(null);
	error = $state<string | null>(null);
	/** Slow generators render only on request: set when the grid is out of date. */
	awaitingRender = $state(false);
	diagnostics = $state.raw<DatasetDiagnostics | null>(null);
	measuring = $state(false);
	diagnosticsError = $state<string | null>(null);
	/** Runs, for generators that visualise a trained encoder (loaded only for those). */
	runs = $state.raw<RunRecord[]>([]);
	/** What the configuration needs (a trained encoder) and whether it is there; null when nothing. */
	requirements = $state.raw<GeneratorRequirements | null>(null);
	/** Realism and diversity against real images (the diagnostics panel's last section). */
	readonly precisionRecall: PrecisionRecallState;
	/** The outcome of starting a suggested training run. */
	trainingNotice = $state<{ ok: boolean; text: string } | null>(null);
	/** Bumped on every change, so a late answer for an old configuration is dropped. */
	private version = 0;
	private renderTimer: ReturnType<typeof setTimeout> | null = null;
	/** Counts render requests; only the latest one's answer is shown or clears `rendering`. */
	private renderTicket = 0;
	/** The id of the progressive preview whose images are arriving, if any. */
	private progressiveId: string | null = null;
	private diagnosticsTimer: ReturnType<typeof setTimeout> | null = null;

	constructor(private readonly api: ApiClient) {
		this.precisionRecall = new PrecisionRecallState(api);
		api.on('presets.changed', (presets) => {
			this.userPresets = presets;
		});
		// A run that starts or finishes may be the encoder a trained generator needs.
		api.on('runs.changed', (run) => {
			if (!this.needsEncoder) return;
			this.runs = [run, ...this.runs.filter((other) => other.id !== run.id)].sort(
				(a, b) => b.id - a.id
			);
			void this.checkRequirements();
		});
		// A slow grid streams in image by image, replacing the outdated image at each position.
		api.on('generators.previewImage', ({ progressiveId, image }) => {
			if (progressiveId !== this.progressiveId) return;
			this.images = [...this.images.filter((shown) => shown.index !== image.index), image].sort(
				(a, b) => a.index - b.index
			);
		});
	}

	/** The selected generator's description and schema. */
	get generator(): GeneratorInfo | undefined {
		return this.generators.find((generator) => generator.id === this.generatorId);
	}

	/** Whether the generator names a trained encoder (feature_vis-dead_leaves). */
	get needsEncoder(): boolean {
		return Object.values(this.generator?.params ?? {}).some((spec) => spec.kind === 'encoder');
	}

	/**
	 * The current configuration and seed as a noise source for precision and recall, naming the
	 * selected built-in preset so that the result is labelled with it.
	 */
	get noiseSource(): {
		kind: 'generator';
		config: StudioState['config'] & { preset?: string };
		seed: number;
	} {
		const preset = this.selection?.kind === 'preset' ? { preset: this.selection.name } : {};
		return { kind: 'generator', config: { ...this.config, ...preset }, seed: this.seed };
	}

	/** The configuration as the API takes it. */
	get config(): { generator: string; params: Record<string, unknown>; size: number } {
		return { generator: this.generatorId, params: $state.snapshot(this.params), size: this.size };
	}

	/**
	 * The parameters as they reproduce the images: an encoder named `newest:…` or `run:ID` is
	 * shown as the checkpoint it resolved to (`run:ID@SHA256`).
	 */
	get reproducibleParams(): Record<string, unknown> {
		const params = this.config.params;
		for (const requirement of this.requirements?.requirements ?? []) {
			if (requirement.encoder) params[requirement.param] = requirement.encoder.reference;
		}
		return params;
	}

	/** Loads the catalogue and presets, then selects the first preset. */
	async load(): Promise<void> {
		const [catalogue, presets] = await Promise.all([
			this.api.call('generators.catalogue', {}),
			this.api.call('presets.list', {})
		]);
		if (!catalogue.ok) {
			this.error = catalogue.error.message;
			return;
		}
		this.generators = catalogue.value.generators;
		this.presets = catalogue.value.presets;
		void this.precisionRecall.load();
		if (presets.ok) this.userPresets = presets.value;
		if (!this.selection) {
			const first = this.presets[0];
			if (first) this.selectPreset(first.name);
		}
	}

	/** Selects a built-in preset. */
	selectPreset(name: string): void {
		const preset = this.presets.find((candidate) => candidate.name === name);
		const generator =
			preset && this.generators.find((candidate) => candidate.id === preset.generator);
		if (!preset || !generator) return;
		this.selection = { kind: 'preset', name };
		this.apply(
			generator,
			{ ...defaultsOf(generator), ...$state.snapshot(preset.params) },
			preset.size
		);
	}

	/** Selects one of the user's presets. */
	selectUserPreset(id: number): void {
		const preset = this.userPresets.find((candidate) => candidate.id === id);
		const generator =
			preset && this.generators.find((candidate) => candidate.id === preset.generator);
		if (!preset || !generator) return;
		this.selection = { kind: 'user', id };
		this.seed = preset.seed;
		this.apply(
			generator,
			{ ...defaultsOf(generator), ...$state.snapshot(preset.params) },
			preset.size
		);
	}

	/** Changes one parameter and re-renders. */
	setParam(name: string, value: unknown): void {
		this.params[name] = value;
		this.changed();
	}

	/** Puts one parameter back to the selected preset's value. */
	resetParam(name: string): void {
		this.setParam(name, $state.snapshot(this.baseParams[name]));
	}

	/** Sets the image size (32–512) and re-renders. */
	setSize(size: number): void {
		this.size = Math.min(512, Math.max(32, Math.round(size)));
		this.changed();
	}

	/** Sets the seed and re-renders. */
	setSeed(seed: number): void {
		this.seed = Math.min(2 ** 32 - 1, Math.max(0, Math.round(seed)));
		this.changed();
	}

	/** Draws a new random seed. */
	reshuffle(): void {
		this.setSeed(randomSeed());
	}

	/** Changes how many images per side the grid shows. */
	setGridSide(side: number): void {
		this.gridSide = side;
		this.scheduleRender();
	}

	/** Saves the current settings as a user preset (overwrites one of the same name). */
	async savePreset(name: string): Promise<string | null> {
		const saved = await this.api.call('presets.save', {
			name,
			generator: this.generatorId,
			params: this.config.params,
			size: this.size,
			seed: this.seed
		});
		if (!saved.ok) return saved.error.message;
		this.selection = { kind: 'user', id: saved.value.id };
		return null;
	}

	/** Renames a user preset. */
	async renamePreset(id: number, name: string): Promise<string | null> {
		const renamed = await this.api.call('presets.rename', { id, name });
		return renamed.ok ? null : renamed.error.message;
	}

	/** Deletes a user preset. */
	async deletePreset(id: number): Promise<string | null> {
		const deleted = await this.api.call('presets.delete', { id });
		if (deleted.ok && this.selection?.kind === 'user' && this.selection.id === id)
			this.selection = null;
		return deleted.ok ? null : deleted.error.message;
	}

	/** Asks what the configuration needs; clears it for generators that need nothing. */
	async checkRequirements(): Promise<void> {
		if (!this.needsEncoder) {
			this.requirements = null;
			return;
		}
		const version = this.version;
		const [requirements, runs] = await Promise.all([
			this.api.call('generators.requirements', { config: this.config }),
			this.api.call('runs.list', {})
		]);
		if (version !== this.version) return;
		if (runs.ok) this.runs = runs.value;
		this.requirements = requirements.ok ? requirements.value : null;
		if (!requirements.ok) this.error = requirements.error.message;
	}

	/** Starts the training run a missing requirement suggests (through the ordinary runs.start). */
	async trainFor(requirement: GeneratorRequirement): Promise<void> {
		if (!requirement.training) return;
		const started = await this.api.call('runs.start', requirement.training);
		this.trainingNotice = started.ok
			? {
					ok: true,
					text: `Started run ${started.value.id} “${started.value.name}” (see Train). This preset uses it once it completes.`
				}
			: { ok: false, text: started.error.message };
		if (started.ok) void this.checkRequirements();
	}

	/** Measures diagnostics of the current settings now. */
	async measure(count = 64): Promise<void> {
		const version = this.version;
		this.measuring = true;
		this.diagnosticsError = null;
		const result = await this.api.call('generators.diagnostics', {
			config: this.config,
			seed: this.seed,
			count
		});
		if (version !== this.version) return; // Superseded: a newer measurement is on its way.
		this.measuring = false;
		if (result.ok) this.diagnostics = result.value;
		else if (result.error.code !== 'CANCELLED') this.diagnosticsError = result.error.message;
	}

	private apply(generator: GeneratorInfo, params: Record<string, unknown>, size: number): void {
		// A slow generator starts on a 2×2 grid (16 images would take minutes), and measures
		// precision and recall on 16 images per side instead of 500.
		if (generator.speed !== this.generator?.speed) {
			if (generator.speed === 'slow') this.gridSide = 2;
			this.precisionRecall.form.samples = generator.speed === 'slow' ? 16 : 500;
		}
		this.generatorId = generator.id;
		// A measurement of other settings would read as this selection's.
		this.precisionRecall.clearResult();
		this.baseParams = $state.snapshot(params);
		this.params = params;
		this.size = size;
		this.diagnostics = null;
		this.changed();
	}

	private changed(): void {
		this.version++;
		this.trainingNotice = null;
		this.scheduleRender();
		this.scheduleDiagnostics();
		void this.checkRequirements();
	}

	/** Renders the grid now (the button that slow generators need). */
	renderNow(): void {
		this.awaitingRender = false;
		void this.render();
	}

	private scheduleRender(): void {
		// Coalesce a burst of slider events into one request; the worker cancels stale ones too.
		if (this.renderTimer) clearTimeout(this.renderTimer);
		if (this.generator?.speed === 'slow') {
			// Minutes of work per grid: never start it as a side effect of a click or a slider.
			this.awaitingRender = true;
			this.renderTicket++; // Whatever is in flight is now out of date.
			this.images = [];
			this.rendering = false;
			this.latencyMs = null;
			return;
		}
		this.awaitingRender = false;
		this.renderTimer = setTimeout(() => void this.render(), 16);
	}

	private scheduleDiagnostics(): void {
		if (this.diagnosticsTimer) clearTimeout(this.diagnosticsTimer);
		if (this.generator?.speed === 'slow') return; // Slow families measure on request only.
		this.diagnosticsTimer = setTimeout(() => void this.measure(), 600);
	}

	private async render(): Promise<void> {
		const version = this.version;
		const started = performance.now();
		const ticket = ++this.renderTicket;
		this.rendering = true;
		// Every grid may stream: the worker pushes images one by one once a grid takes long (a
		// slow generator, or a texture pool that is still being built).
		this.progressiveId = `grid-${ticket}-${started}`;
		if (this.generator?.speed === 'slow') this.images = [];
		const result = await this.api.call('generators.preview', {
			config: this.config,
			seed: this.seed,
			indices: Array.from({ length: this.gridSide * this.gridSide }, (_, index) => index),
			stream: 'grid',
			progressiveId: this.progressiveId
		});
		if (ticket !== this.renderTicket) return; // A newer render is on its way.
		this.rendering = false;
		// An answer for settings that have changed since (slow generators wait for a click) is dropped.
		if (version !== this.version || (!result.ok && result.error.code === 'CANCELLED')) return;
		if (result.ok) {
			this.images = result.value.images;
			this.latencyMs = performance.now() - started;
			this.error = null;
		} else {
			this.error = result.error.message;
		}
	}
}
