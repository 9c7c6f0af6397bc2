/** Formats a duration for progress displays: `42 s`, `3 min 05 s`, `2 h 07 min`. */
export function formatDuration(seconds: number): string {
	if (!Number.isFinite(seconds) || seconds < 0) return '?';
	const whole = Math.round(seconds);
	if (whole < 60) return `${whole} s`;
	if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
	return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')} min`;
}

/** A byte count in MiB, with one decimal unless whole: `20 MiB`, `18.5 MiB`. */
export function formatMiB(bytes: number): string {
	const mib = bytes / 2 ** 20;
	return `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB`;
}
