/**
 * How the New run form names and sizes the encoder presets (core's `modelPresets`), before a
 * worker builds one.
 */
import type { ModelPresetId } from '../../../core/training/config';
import { modelPresets, parameterCount } from '../../../core/training/encoder-spec';

/** How the UI names each preset, in the order the form lists them. */
export const modelPresetLabels: Record<ModelPresetId, string> = {
	tiny: 'Tiny (for laptops)',
	small: 'Small (half width)',
	alexnet: 'SmallAlexNet (the paper)'
};

/** A parameter count as people say it: `58.7 M`, `412 k`. */
export function formatParameterCount(count: number): string {
	if (count >= 1e6) return `${(count / 1e6).toFixed(count >= 1e8 ? 0 : 1)} M`;
	if (count >= 1e3) return `${Math.round(count / 1e3)} k`;
	return String(count);
}

/** One line that says what a preset is: `32 px input, 3.9 M parameters`. */
export function describeModelPreset(id: ModelPresetId): string {
	const spec = modelPresets[id];
	return `${spec.inputSize} px input, ${formatParameterCount(parameterCount(spec))} parameters`;
}
