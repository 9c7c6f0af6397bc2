/**
 * electron-builder.yml's file patterns, evaluated by electron-builder's own matcher
 * (app-builder-lib) for each target: an installer carries only its platform's `dawn.node`,
 * unpacked from the ASAR archive. Packaging itself needs the Electron binaries (network), so
 * this checks the configuration the way electron-builder reads it.
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const load = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '../..');

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
	fs.readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')
) as { files: string[]; asarUnpack: string[] };

/** Every file of the webgpu package's prebuilt folders. */
const dawnFiles = fs
	.readdirSync(path.join(root, 'node_modules/webgpu/dist'))
	.flatMap((folder) =>
		fs
			.readdirSync(path.join(root, 'node_modules/webgpu/dist', folder))
			.map((file) => `node_modules/webgpu/dist/${folder}/${file}`)
	);

const file = { isDirectory: () => false };

/** The Dawn files electron-builder copies for a target, and those it unpacks from the ASAR. */
function packaged(os: string, arch: string): { copied: string[]; unpacked: string[] } {
	const expand = (pattern: string) => expandMacro(pattern, arch, {}, { os });
	const copy = getNodeModuleFileMatcher(
		root,
		'/out',
		expand,
		{},
		{
			config,
			debugLogger: { isEnabled: false }
		}
	).createFilter();
	const unpack = new FileMatcher(root, '/out', expand, config.asarUnpack).createFilter();
	const copied = dawnFiles.filter((name) => copy(path.join(root, name), file));
	return { copied, unpacked: copied.filter((name) => unpack(path.join(root, name), file)) };
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
