/**
 * The config diff of a comparison: configurations flattened to dotted paths, and only the paths
 * whose values differ between the compared runs.
 */

/** A leaf value of a flattened configuration, as shown (JSON text: `0.5`, `"sgd"`, `[0.1,0.2]`). */
export type FlatConfig = Record<string, string>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Flattens a configuration to dotted paths (`source.config.layers`, `augment.hue`). Arrays are
 * leaves, written as compact JSON, since a list of milestones reads best whole; an empty object
 * is a leaf too, so that it still shows up. Keys come out sorted, so equal configurations give
 * equal listings whatever their key order.
 */
export function flattenConfig(value: unknown, prefix = ''): FlatConfig {
	const flat: FlatConfig = {};
	if (!isPlainObject(value) || (Object.keys(value).length === 0 && prefix)) {
		flat[prefix || '(value)'] = formatLeaf(value);
		return flat;
	}
	for (const key of Object.keys(value).sort()) {
		const path = prefix ? `${prefix}.${key}` : key;
		Object.assign(flat, flattenConfig(value[key], path));
	}
	return flat;
}

/** A leaf as text: strings unquoted (they read as words), everything else as JSON. */
export function formatLeaf(value: unknown): string {
	if (typeof value === 'string') return value;
	if (value === undefined) return '—';
	// JSON writes NaN and infinities as null; keep them as they are.
	if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
	return JSON.stringify(value) ?? String(value);
}

/** One differing path: `values[i]` is run i's value, null where run i has no such path. */
export interface ConfigDifference {
	path: string;
	values: (string | null)[];
}

/**
 * The paths where the configurations differ, in path order. A path present in some
 * configurations only (a folder source next to a generator source) differs too.
 */
export function configDiff(configs: readonly unknown[]): ConfigDifference[] {
	const flats = configs.map((config) => flattenConfig(config));
	const paths = new Set<string>();
	for (const flat of flats) for (const path of Object.keys(flat)) paths.add(path);
	const differences: ConfigDifference[] = [];
	for (const path of [...paths].sort()) {
		const values = flats.map((flat) => flat[path] ?? null);
		if (values.some((value) => value !== values[0])) differences.push({ path, values });
	}
	return differences;
}

/** How many leaf settings the configurations share, for "N settings are the same". */
export function sharedSettingCount(configs: readonly unknown[]): number {
	const flats = configs.map((config) => flattenConfig(config));
	const first = flats[0];
	if (!first) return 0;
	return Object.keys(first).filter((path) => flats.every((flat) => flat[path] === first[path]))
		.length;
}
