/**
 * The page's colour scheme as reactive state. Charts draw with colours read from CSS variables,
 * which change with the OS's light/dark setting; reading them through {@link themeColor}
 * inside an effect re-runs the effect (and redraws the chart) when the scheme switches.
 */
class ColorScheme {
	dark = $state(false);

	constructor() {
		if (typeof matchMedia === 'undefined') return;
		const query = matchMedia('(prefers-color-scheme: dark)');
		this.dark = query.matches;
		query.addEventListener('change', (event) => {
			this.dark = event.matches;
		});
	}
}

const scheme = new ColorScheme();

/** A CSS custom property of the current theme, e.g. `themeColor('--muted', '#666')`. */
export function themeColor(name: string, fallback: string): string {
	// Read for its dependency: the value comes from the stylesheet.
	void scheme.dark;
	return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}
