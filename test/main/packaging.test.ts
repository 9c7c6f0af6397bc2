/**
 * electron-builder.yml as electron-builder reads it (app-builder-lib's own loader, schema and
 * file matcher): the Electron fuses, and, for each target, an installer that carries only its
 * platform's Dawn `dawn.node`, unpacked from the ASAR archive. Packaging itself needs the
 * Electron binaries (network), so this checks the configuration instead.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config';
import { DebugLogger } from 'builder-util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/paths';

describe('electron-builder.yml', () => {
	it('sets the Electron fuses, read and validated by electron-builder itself', async () => {
		// electron-builder's own loader and schema: a misspelt key or value fails here, not at release.
		const config = await getConfig(repoRoot, path.join(repoRoot, 'electron-builder.yml'), null);
		await validateConfiguration(config, new DebugLogger(false));
		expect(config.electronFuses).toEqual({
			runAsNode: false,
			enableNodeOptionsEnvironmentVariable: false,
			enableNodeCliInspectArguments: false,
			enableCookieEncryption: true,
			enableEmbeddedAsarIntegrityValidation: true,
			onlyLoadAppFromAsar: true,
			grantFileProtocolExtraPrivileges: false
		});
		// onlyLoadAppFromAsar needs the app packed into app.asar.
		expect(config.asar).not.toBe(false);
	});
});

const load = createRequire(import.meta.url);

interface Matcher {
	patterns: string[];
	createFilter(): (file: string, stat: { isDirectory(): boolean }) => boolean;
}
const { getNodeModuleFileMatcher, FileMatcher } = load('app-builder-lib/out/fileMatcher.js') as {
	getNodeModuleFileMatcher(
		appDir: string,
		destination: string,
		macroExpander: (pattern: string) => string,
		platformSpecificBuildOptions: object,
		packager: object
	): Matcher;
	FileMatcher: new (
		from: string,
		to: string,
		macroExpander: (pattern: string) => string,
		patterns: string[]
	) => Matcher;
};
const { expandMacro } = load('app-builder-lib/out/util/macroExpander.js') as {
	expandMacro(
		pattern: string,
		arch: string | null,
		appInfo: object,
		extra: Record<string, string>
	): string;
};
const config = (load('js-yaml') as { load(text: string): unknown }).load(
	fs.readFileSync(path.join(repoRoot, 'electron-builder.yml'), 'utf8')
) as { files: string[]; asarUnpack: string[] };

/** Every file of the webgpu package's prebuilt folders. */
const dawnFiles = fs
	.readdirSync(path.join(repoRoot, 'node_modules/webgpu/dist'))
	.flatMap((folder) =>
		fs
			.readdirSync(path.join(repoRoot, 'node_modules/webgpu/dist', folder))
			.map((file) => `node_modules/webgpu/dist/${folder}/${file}`)
	);

const file = { isDirectory: () => false };

/** The Dawn files electron-builder copies for a target, and those it unpacks from the ASAR. */
function packaged(os: string, arch: string): { copied: string[]; unpacked: string[] } {
	const expand = (pattern: string) => expandMacro(pattern, arch, {}, { os });
	const copy = getNodeModuleFileMatcher(
		repoRoot,
		'/out',
		expand,
		{},
		{
			config,
			debugLogger: { isEnabled: false }
		}
	).createFilter();
	const unpack = new FileMatcher(repoRoot, '/out', expand, config.asarUnpack).createFilter();
	const copied = dawnFiles.filter((name) => copy(path.join(repoRoot, name), file));
	return { copied, unpacked: copied.filter((name) => unpack(path.join(repoRoot, name), file)) };
}

describe('electron-builder.yml and Dawn', () => {
	it.each([
		['linux', 'x64', 'linux-x64'],
		['linux', 'arm64', 'linux-arm64'],
		['win', 'x64', 'win32-x64'],
		['win', 'arm64', 'win32-arm64'],
		['mac', 'universal', 'darwin-universal'],
		['mac', 'arm64', 'darwin-universal'],
		['mac', 'x64', 'darwin-universal']
	])('a %s %s build ships only dist/%s, unpacked', (os, arch, folder) => {
		const { copied, unpacked } = packaged(os, arch);
		expect(copied).toContain(`node_modules/webgpu/dist/${folder}/dawn.node`);
		expect(copied.every((name) => name.startsWith(`node_modules/webgpu/dist/${folder}/`))).toBe(
			true
		);
		expect(unpacked).toEqual(copied);
	});
});
