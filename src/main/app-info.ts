import packageJson from '../../package.json' with { type: 'json' };

/** Name and version of this build, read from package.json at build time. */
export const appInfo = {
	name: packageJson.productName,
	version: packageJson.version,
	nodeRequired: packageJson.engines.node
} as const;

/** Whether a Node version string (e.g. `v22.12.0`) satisfies the `>=MAJOR.MINOR` requirement. */
export function nodeVersionSatisfies(
	version: string,
	required: string = appInfo.nodeRequired
): boolean {
	const parse = (text: string) => (text.match(/(\d+)\.(\d+)/) ?? []).slice(1).map(Number);
	const [major = 0, minor = 0] = parse(version);
	const [needMajor = 0, needMinor = 0] = parse(required);
	return major > needMajor || (major === needMajor && minor >= needMinor);
}
