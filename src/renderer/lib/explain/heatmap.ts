/**
 * Wording and small sums of the Explain area's results. The colour maps and compositing live in
 * core (src/core/explain/colormap.ts), so the renderer and the CLI draw the same pixels.
 */
/** The mean of a difference map on 0–1 (0: identical maps), for a one-line summary. */
export function meanDifference(difference: Uint8Array): number {
	if (difference.length === 0) return 0;
	let sum = 0;
	for (const value of difference) sum += value;
	return sum / difference.length / 255;
}

/** A score or AUC (in the encoder's score units) with three decimals; em dash when not finite. */
export function formatAuc(value: number): string {
	return Number.isFinite(value) ? value.toFixed(3) : '—';
}

/** The Spearman agreement in words, so a reader needs no statistics to judge it. */
export function describeAgreement(agreement: number | null): string {
	if (agreement === null) return 'not defined (one encoder, or a flat map)';
	const strength =
		Math.abs(agreement) >= 0.7
			? 'strong'
			: Math.abs(agreement) >= 0.4
				? 'moderate'
				: Math.abs(agreement) >= 0.15
					? 'weak'
					: 'no';
	const direction = agreement < 0 && strength !== 'no' ? ' inverse' : '';
	return `${agreement.toFixed(2)} — ${strength}${direction} agreement`;
}
