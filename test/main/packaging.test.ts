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
