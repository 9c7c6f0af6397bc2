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
