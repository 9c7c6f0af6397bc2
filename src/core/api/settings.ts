import { z } from 'zod';
import { backendPreferences } from '../compute/backends';
import { maxReplicas } from '../training/config';

const replicasSchema = z.number().int().min(1).max(maxReplicas);

/**
 * User settings stored in SQLite. Every field has a default, so an empty store is a valid
 * configuration and a stored value from an older version that no longer validates falls back
 * to its default instead of breaking startup.
 */
export const appSettingsSchema = z.object({
	/** The compute backend for training, evaluation and Grad-CAM. */
	backend: z.enum(backendPreferences).default('auto'),
	/**
	 * Data-parallel wasm replicas for runs that do not choose; null: the cores the data threads
	 * leave (see `core/training/parallelism.ts`).
	 */
	replicas: replicasSchema.nullable().default(null),
	/**
	 * Folders besides the data folder that web mode may read and write (canonical paths). Changed
	 * only through `settings.allowFolder` / `settings.removeFolder`, never `settings.update`.
	 */
	allowedFolders: z.array(z.string()).default([])
});

/** See {@link appSettingsSchema}. */
export type AppSettings = z.infer<typeof appSettingsSchema>;

/** A partial update: unknown keys are refused so that a typo is not silently ignored. */
export const appSettingsUpdateSchema = z
	.object({ backend: z.enum(backendPreferences), replicas: replicasSchema.nullable() })
	.partial()
	.strict();

/** See {@link appSettingsUpdateSchema}. */
export type AppSettingsUpdate = z.infer<typeof appSettingsUpdateSchema>;

/** Settings with every default applied. */
export const defaultSettings: AppSettings = appSettingsSchema.parse({});

/**
 * Which host paths a client may name. `any`: the desktop app, the CLI and
 * `serve --allow-any-path`. `confined` (web mode's default): only paths inside the data folder
 * or an allowed folder, symlinks resolved.
 */
export const hostPathAccessModes = ['any', 'confined'] as const;

/** One of {@link hostPathAccessModes}. */
export type HostPathAccess = (typeof hostPathAccessModes)[number];

/** What `system.browseFolders` asks for: a folder to list, or null for the starting points. */
export const browseFoldersParamsSchema = z
	.object({ path: z.string().min(1).max(4096).nullable().default(null) })
	.strict();

/** One sub-folder in a {@link FolderListing}. */
export const folderEntrySchema = z.object({ name: z.string(), path: z.string() });

/**
 * A folder of the host as the web mode's folder picker shows it: its sub-folders (the folders
 * the client may use, when no folder was asked for), how many image files it holds directly,
 * and where "Up" leads (null at a starting point).
 */
export const folderListingSchema = z.object({
	/** The folder listed, canonical; null for the list of starting points. */
	path: z.string().nullable(),
	parent: z.string().nullable(),
	folders: z.array(folderEntrySchema),
	/** Image files directly in the folder (not in its sub-folders). */
	images: z.number().int().min(0),
	/** Other files directly in the folder, by name, at most a few (an IDX or CIFAR dataset). */
	files: z.array(z.string()),
	/** More sub-folders than listed. */
	truncated: z.boolean()
});

/** See {@link folderListingSchema}. */
export type FolderListing = z.infer<typeof folderListingSchema>;
