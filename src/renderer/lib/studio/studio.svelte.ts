/**
 * The Generator Studio's state: the catalogue, the current configuration, the preview grid,
 * diagnostics and saved presets. Rendering happens in the generator worker; this class only
 * asks. Every grid carries the request it answers (generator, parameters, size, seed, grid) and
 * is dropped unless that request is still what the screen shows. Settings whose measured cost
 * makes a grid slow render only when asked, one image per request, so that a cancel stops after
 * the current image and no core is left busy.
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
import { SvelteMap } from 'svelte/reactivity';
import { PrecisionRecallState } from '../analysis/precision-recall.svelte';
import type { RunsStore } from '../runs/runs-store.svelte';
import { Latest } from '../request';
import { seedProblem } from './param-controls';
import {
	answersCurrent,
	costKey,
	expensiveSide,
	planPreview,
	type PreviewPlan,
	type PreviewRequest
} from './preview-request';

/**
 * A first image slower than this is expensive beyond doubt; a faster one may only have paid for
 * the worker's start, tables and caches built once (seconds on a loaded machine), so a second
 * image confirms the cost before the grid is held back.
 */
const confirmBelowMs = 5_000;

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
	/** Why the seed typed was refused; the images stay those of {@link seed}. */
	seedError = $state<string | null>(null);
	/** Expensive settings render only on request: set when the grid is out of date. */
	awaitingRender = $state(false);
	/** The settings render only on request (declared slow, or measured over the threshold). */
	onRequest = $state(false);
	/** Measured milliseconds per image of the current settings, when known. */
	msPerImage = $state<number | null>(null);
	/** Pool textures filled of those asked for, while a preview fills them (textured dead leaves). */
	textureProgress = $state.raw<{ filled: number; requested: number } | null>(null);
	/** Images drawn so far of an on-request grid, while it renders. */
	renderProgress = $state.raw<{ done: number; total: number } | null>(null);
	/** The user asked to stop an on-request grid; it stops after the image being drawn. */
	stopping = $state(false);
	/** Drawing the first images of settings whose cost is not known yet. */
	measuringCost = $state(false);
	/** The request the shown images answer. */
	shown = $state.raw<PreviewRequest | null>(null);
	diagnostics = $state.raw<DatasetDiagnostics | null>(null);
	measuring = $state(false);
	diagnosticsError = $state<string | null>(null);
	/** What the configuration needs (a trained encoder) and whether it is there; null when nothing. */
	requirements = $state.raw<GeneratorRequirements | null>(null);
	/** Realism and diversity against real images (the diagnostics panel's last section). */
	readonly precisionRecall: PrecisionRecallState;
	/** The outcome of starting a suggested training run. */
	trainingNotice = $state<{ ok: boolean; text: string } | null>(null);
	/** Bumped on every change, so a late answer for an old configuration is dropped. */
	private version = 0;
	private renderTimer: ReturnType<typeof setTimeout> | null = null;
	/** Only the latest render's answer is shown or clears `rendering`. */
	private readonly grid = new Latest();
	/** The progressive preview whose images are arriving, with the request they answer. */
	private progressive: { id: string; request: PreviewRequest } | null = null;
	private progressiveCount = 0;
	/** Preview events go to every tab: this tab's ids carry its own prefix, so none takes another's images. */
	private readonly progressivePrefix = `grid-${Math.random().toString(36).slice(2, 10)}`;
	/** Measured milliseconds per image, by generator, parameters and size. */
	private readonly costs = new SvelteMap<string, number>();
	private diagnosticsTimer: ReturnType<typeof setTimeout> | null = null;

	constructor(
		private readonly api: ApiClient,
		private readonly runsStore: RunsStore
	) {
		this.precisionRecall = new PrecisionRecallState(api, runsStore);
		api.on('presets.changed', (presets) => {
			this.userPresets = presets;
		});
		// A run that starts or finishes may be the encoder a trained generator needs.
		runsStore.onChange(() => {
			if (this.needsEncoder) void this.checkRequirements();
		});
		// A slow grid streams in image by image, replacing the outdated image at each position.
		api.on('generators.previewImage', ({ progressiveId, image }) => {
			const progressive = this.progressive;
			if (progressive?.id !== progressiveId || !answersCurrent(progressive.request, this.request))
				return;
			this.images = [...this.images.filter((shown) => shown.index !== image.index), image].sort(
				(a, b) => a.index - b.index
			);
		});
		api.on('generators.previewTextures', ({ progressiveId, filled, requested }) => {
			const progressive = this.progressive;
			if (progressive?.id !== progressiveId || !answersCurrent(progressive.request, this.request))
				return;
			this.textureProgress = { filled, requested };
		});
	}

	/** Every run, newest first (the shell's one runs store). */
	get runs(): RunRecord[] {
		return this.runsStore.runs;
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

	/** The grid the screen asks for now. */
	get request(): PreviewRequest {
		return { ...this.config, seed: this.seed, side: this.gridSide };
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

	/**
	 * After a reconnection: what the lost connection left undrawn or unmeasured is asked again
	 * (the server may be a restarted one with nothing of it).
	 */
	reconnected(): void {
		if (this.generators.length === 0) {
			void this.load();
			return;
		}
		this.error = null;
		if (this.shown === null || !answersCurrent(this.shown, this.request)) this.scheduleRender();
		if (this.diagnostics === null) this.scheduleDiagnostics();
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

	/**
	 * Sets the seed and re-renders; a seed that is not a whole number from 0 to 2³²−1 is refused
	 * with {@link seedError} (it was clamped silently: −5 drew seed 0's images).
	 */
	setSeed(seed: number): void {
		this.seedError = seedProblem(seed);
		if (this.seedError !== null) return;
		this.seed = seed;
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
		const [requirements] = await Promise.all([
			this.api.call('generators.requirements', { config: this.config }),
			// A list that failed to load is fetched again: the requirement reads the trained runs.
			this.runsStore.loaded && this.runsStore.error === null ? true : this.runsStore.load()
		]);
		if (version !== this.version) return;
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
		if (version !== this.version) return; // The settings changed meanwhile.
		this.measuring = false;
		if (result.ok) this.diagnostics = result.value;
		else if (result.error.code !== 'CANCELLED' && result.error.code !== 'DISCONNECTED')
			this.diagnosticsError = result.error.message;
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
		// A measurement in flight answers the old settings: its answer will be dropped.
		this.measuring = false;
		this.trainingNotice = null;
		this.scheduleRender();
		this.scheduleDiagnostics();
		void this.checkRequirements();
	}

	/** Renders the on-request grid now, one image per request (the "Render previews" button). */
	renderNow(): Promise<void> {
		return this.renderImageByImage();
	}

	/**
	 * Stops an on-request grid after the image being drawn (no worker is interrupted), or cancels
	 * a grid drawn in one request (a texture fill, say) at once: the images it pushed stay and the
	 * rest renders on request.
	 */
	stopRender(): void {
		if (this.renderProgress) this.stopping = true;
		else if (this.rendering) {
			this.stopping = true;
			void this.api.call('generators.cancelPreview', { stream: 'grid' });
		}
	}

	private plan(): PreviewPlan {
		return planPreview({
			declaredSlow: this.generator?.speed === 'slow',
			msPerImage: this.costs.get(costKey(this.config)),
			images: this.gridSide * this.gridSide
		});
	}

	private scheduleRender(): void {
		// Coalesce a burst of slider events into one request; the worker cancels stale ones too.
		if (this.renderTimer) clearTimeout(this.renderTimer);
		this.grid.supersede(); // Whatever is in flight answers settings no longer on screen.
		this.rendering = false;
		this.renderProgress = null;
		this.textureProgress = null;
		this.stopping = false;
		this.msPerImage = this.costs.get(costKey(this.config)) ?? null;
		if (this.shown && !answersCurrent(this.shown, this.request)) this.dropImages();
		const plan = this.plan();
		this.onRequest = plan.kind === 'on-request';
		// Seconds of work per grid: never start it as a side effect of a click or a slider.
		this.awaitingRender = this.onRequest && this.images.length < this.gridSide * this.gridSide;
		if (this.onRequest) return;
		this.renderTimer = setTimeout(() => void this.render(plan), 16);
	}

	private dropImages(): void {
		this.images = [];
		this.shown = null;
		this.latencyMs = null;
	}

	/**
	 * Keeps the measured cost per image of `request`'s settings: the fastest image seen, since
	 * the first one of new settings also pays for tables and caches built once.
	 */
	private noteCost(request: PreviewRequest, images: PreviewImageData[]): void {
		const key = costKey(request);
		const fastest = Math.min(
			this.costs.get(key) ?? Infinity,
			...images.map((image) => image.milliseconds)
		);
		if (!Number.isFinite(fastest)) return;
		this.costs.set(key, fastest);
		if (answersCurrent(request, this.request)) this.msPerImage = fastest;
	}

	private scheduleDiagnostics(): void {
		if (this.diagnosticsTimer) clearTimeout(this.diagnosticsTimer);
		// Expensive settings measure on request only; unmeasured ones once the first grid shows cheap.
		if (this.plan().kind !== 'grid') return;
		this.diagnosticsTimer = setTimeout(() => void this.measure(), 600);
	}

	/**
	 * Renders the whole grid in one request (streaming once it turns out slow), or, for settings
	 * never measured, one image at a time until their cost is known: when it shows the grid would
	 * be expensive, the rest waits for "Render previews" on a smaller grid.
	 */
	private async render(plan: PreviewPlan): Promise<void> {
		const request = this.request;
		const current = this.grid.begin();
		const started = performance.now();
		const probe = plan.kind === 'probe';
		const drawn = probe && this.shown && answersCurrent(this.shown, request) ? this.images : [];
		this.rendering = true;
		this.measuringCost = probe;
		this.progressive = { id: `${this.progressivePrefix}-${++this.progressiveCount}`, request };
		const result = await this.api.call('generators.preview', {
			config: this.config,
			seed: request.seed,
			indices: probe
				? [drawn.length]
				: Array.from({ length: request.side ** 2 }, (_, index) => index),
			stream: 'grid',
			progressiveId: this.progressive.id
		});
		// A newer render is on its way, or the settings changed: this answer is not for the screen.
		if (!current() || !answersCurrent(request, this.request)) return;
		this.rendering = false;
		this.measuringCost = false;
		this.textureProgress = null;
		if (!result.ok) {
			if (result.error.code === 'CANCELLED' && this.stopping) {
				// Stopped by the user: keep what arrived, offer the rest on request.
				this.stopping = false;
				this.shown = request;
				this.onRequest = true;
				this.awaitingRender = this.images.length < request.side ** 2;
				return;
			}
			// A dropped connection is the shell's banner to tell; the grid is drawn again on reconnect.
			if (result.error.code === 'CANCELLED' || result.error.code === 'DISCONNECTED') return;
			this.dropImages();
			this.error = result.error.message;
			return;
		}
		this.error = null;
		this.noteCost(request, result.value.images);
		this.images = [...drawn, ...result.value.images];
		this.shown = request;
		this.latencyMs = performance.now() - started;
		// A Stop whose cancel arrived after the answer: the grid is whole, or the probe goes no further.
		const stopped = this.stopping;
		this.stopping = false;
		if (!probe) return;
		if (stopped) {
			this.onRequest = true;
			this.awaitingRender = this.images.length < request.side ** 2;
			return;
		}
		if (this.plan().kind === 'grid') {
			this.scheduleDiagnostics();
			return this.render({ kind: 'grid' });
		}
		if ((this.msPerImage ?? 0) < confirmBelowMs && this.images.length < 2) return this.render(plan);
		// Expensive: keep the probe images, shrink the grid and wait for the user.
		this.gridSide = expensiveSide(this.gridSide);
		this.shown = this.request;
		this.scheduleRender();
	}

	/**
	 * Draws an on-request grid one image per request, keeping images already drawn for the same
	 * settings; `stopRender` takes effect after the current image.
	 */
	private async renderImageByImage(): Promise<void> {
		const request = this.request;
		const current = this.grid.begin();
		const started = performance.now();
		const total = request.side ** 2;
		if (!this.shown || !answersCurrent(this.shown, request)) this.dropImages();
		this.awaitingRender = false;
		this.rendering = true;
		this.stopping = false;
		this.error = null;
		this.renderProgress = { done: this.images.length, total };
		for (let index = 0; index < total; index++) {
			if (this.images.some((image) => image.index === index)) continue;
			if (this.stopping) break;
			const result = await this.api.call('generators.preview', {
				config: this.config,
				seed: request.seed,
				indices: [index],
				stream: 'grid'
			});
			if (!current() || !answersCurrent(request, this.request)) return;
			if (!result.ok) {
				if (result.error.code !== 'CANCELLED' && result.error.code !== 'DISCONNECTED')
					this.error = result.error.message;
				break;
			}
			this.noteCost(request, result.value.images);
			this.images = [...this.images, ...result.value.images].sort((a, b) => a.index - b.index);
			this.shown = request;
			this.renderProgress = { done: this.images.length, total };
		}
		this.rendering = false;
		this.renderProgress = null;
		this.stopping = false;
		this.awaitingRender = this.images.length < total;
		if (!this.awaitingRender) this.latencyMs = performance.now() - started;
	}
}
