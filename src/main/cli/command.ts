import path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { createAppContext, type AppContext, type AppContextOptions } from '../app-context';
import { resolveDataDir } from '../paths';
import { forkNodeWorker } from '../workers/node-launcher';

/** Where the built app lives, which every command may need. */
export interface CliEnvironment {
	/** The `dist/` folder: `dist/renderer`, `dist/workers`, … */
	distDir: string;
	stdout: (text: string) => void;
	stderr: (text: string) => void;
}

/** Parsed flags and positionals of one command. */
export interface CliArgs {
	values: Record<string, string | boolean | (string | boolean)[] | undefined>;
	positionals: string[];
}

/**
 * One `noiselab` sub-command. Later features add theirs to the list in `cli/main.ts`; the
 * help text is built from these fields.
 */
export interface CliCommand {
	name: string;
	summary: string;
	/** Usage lines after `noiselab <name>`, e.g. `[--json]`. */
	usage: string;
	/** Flag descriptions for `--help`, by flag name. */
	flagHelp: Record<string, string>;
	options: NonNullable<ParseArgsConfig['options']>;
	/** Whether the command takes positional arguments (sub-commands such as `runs list`). */
	positionals?: boolean;
	/** Returns the exit code; long-running commands resolve when they stop. */
	run(args: CliArgs, env: CliEnvironment): Promise<number>;
}

/**
 * The app's service layer for a command: the data folder's store, workers as Node children.
 * A command that changes data is the folder's `owner` and holds its lock (throwing
 * DATA_FOLDER_BUSY, which names the holder, while another process owns it); one that only reads
 * asks for `read-only` and works beside a running app. A command is the user at this machine, so
 * it may name any path; `serve` passes its own policy for the browsers it serves.
 */
export function cliAppContext(
	env: CliEnvironment,
	access: 'owner' | 'read-only' = 'owner',
	paths: Pick<AppContextOptions, 'pathAccess' | 'tellHost'> = { pathAccess: 'any' }
): AppContext {
	return createAppContext({
		dataDir: resolveDataDir(),
		launcher: forkNodeWorker,
		workersDir: path.join(env.distDir, 'workers'),
		access,
		...paths
	});
}

/** An accuracy in [0, 1] as `81.3%`; `–` when missing. */
export function formatPercent(value: number | null | undefined): string {
	return value === null || value === undefined ? '–' : `${(value * 100).toFixed(1)}%`;
}
