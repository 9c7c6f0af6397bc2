/**
 * A study as one folder, to archive it or move it to another machine: `study.json` (the spec,
 * plan, estimate and which run serves each source and repeat) and one run bundle per run
 * (`runs/run-<id>.nlrun`, the run-bundle format: record, metrics, evaluations, probes, newest
 * checkpoint). Importing adds every run as a new run and the study with its links.
 */
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { AppFailure } from '../../core/api/errors';
import { sourcePlanSchema, studyEstimateSchema, studySpecSchema } from '../../core/api/studies';
import { writeFileDurably } from '../durable-file';
import { listCheckpoints } from '../store/runs';
import { createStudy, linkStudyRun, type StoredStudy, type StudyRunRow } from '../store/studies';
import type { RunRecord } from '../../core/api/training';
import { exportRunBundle } from '../training/run-bundle';

const studyBundleFormat = 'noiselab-study-bundle';

const studyBundleSchema = z.object({
	format: z.literal(studyBundleFormat),
	version: z.literal(1),
	spec: studySpecSchema,
	plan: z.array(sourcePlanSchema),
	estimate: studyEstimateSchema.nullable(),
	links: z.array(
		z.object({
			sourceKey: z.string(),
			repeat: z.number().int(),
			/** The run bundle, relative to the folder; null when the run had nothing to carry. */
			file: z.string().nullable(),
			runId: z.number().int()
		})
	),
	exportedAt: z.string()
});

/** The name of a study bundle's description file. */
export const studyBundleFile = 'study.json';

/** What an export wrote. */
export interface StudyBundleSummary {
	path: string;
	runs: number;
	/** Runs left out, with why (e.g. not trained yet). */
	skipped: string[];
	bytes: number;
}

/**
 * Writes a study into `folder` (created if needed; it must be empty or hold a study bundle).
 * Runs without a checkpoint (never trained) are listed as skipped.
 */
export function exportStudyBundle(
	db: Database.Database,
	study: StoredStudy,
	links: readonly StudyRunRow[],
	folder: string
): StudyBundleSummary {
	const target = path.resolve(folder);
	if (fs.existsSync(target)) {
		const entries = fs.readdirSync(target);
		if (entries.length > 0 && !entries.includes(studyBundleFile)) {
			throw new AppFailure(
				'FOLDER_CONFLICT',
				`${target} is not empty and holds no study bundle; choose an empty or new folder.`
			);
		}
	}
	try {
		fs.mkdirSync(path.join(target, 'runs'), { recursive: true });
	} catch (error) {
		throw new AppFailure('IO_ERROR', `Cannot create ${target}: ${(error as Error).message}`);
	}
	const written = new Map<number, string | null>();
	const skipped: string[] = [];
	let bytes = 0;
	for (const link of links) {
		if (written.has(link.runId)) continue;
		if (listCheckpoints(db, link.runId).length === 0) {
			written.set(link.runId, null);
			skipped.push(`run ${link.runId} (${link.sourceKey}, repeat ${link.repeat}): not trained yet`);
			continue;
		}
		// A study bundle written again into its folder replaces its own run bundles.
		const bundle = exportRunBundle(
			db,
			link.runId,
			path.join(target, 'runs', `run-${link.runId}.nlrun`),
			true
		);
		bytes += bundle.bytes;
		written.set(link.runId, path.relative(target, bundle.path).split(path.sep).join('/'));
	}
	const description: z.input<typeof studyBundleSchema> = {
		format: studyBundleFormat,
		version: 1,
		spec: study.spec,
		plan: study.plan,
		estimate: study.estimate,
		links: links.map((link) => ({
			sourceKey: link.sourceKey,
			repeat: link.repeat,
			file: written.get(link.runId) ?? null,
			runId: link.runId
		})),
		exportedAt: new Date().toISOString()
	};
	const json = new TextEncoder().encode(`${JSON.stringify(description, null, '\t')}\n`);
	writeFileDurably(path.join(target, studyBundleFile), json);
	bytes += json.length;
	return { path: target, runs: [...written.values()].filter(Boolean).length, skipped, bytes };
}

/**
 * Imports a study bundle folder: every run through `importRun` (the run-bundle import, which
 * reads the file off the main thread) as a new run, then the study linked to them. A bundle that
 * fails part-way removes the runs it had added (`removeRun`), so an import adds all or nothing.
 */
export async function importStudyBundle(
	db: Database.Database,
	folder: string,
	runs: { importRun: (file: string) => Promise<RunRecord>; removeRun: (id: number) => void }
): Promise<number> {
	const root = path.resolve(folder);
	const file = path.join(root, studyBundleFile);
	let description: z.infer<typeof studyBundleSchema>;
	try {
		const parsed = studyBundleSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
		if (!parsed.success) {
			throw new Error(`it does not validate (${parsed.error.issues[0]?.message ?? 'unknown'})`);
		}
		description = parsed.data;
	} catch (error) {
		throw new AppFailure(
			'INVALID_REQUEST',
			`Cannot import the study bundle ${file}: ${(error as Error).message}`
		);
	}
	const imported = new Map<number, number>();
	try {
		for (const link of description.links) {
			if (link.file === null || imported.has(link.runId)) continue;
			const target = path.resolve(root, link.file);
			if (path.dirname(target) !== path.join(root, 'runs')) {
				throw new AppFailure(
					'INVALID_REQUEST',
					`Cannot import the study bundle ${file}: run bundle ${JSON.stringify(link.file)} is outside its runs folder.`
				);
			}
			imported.set(link.runId, (await runs.importRun(target)).id);
		}
	} catch (error) {
		for (const id of imported.values()) runs.removeRun(id);
		throw error;
	}
	return db.transaction(() => {
		const id = createStudy(
			db,
			{ ...description.spec, name: `${description.spec.name} (imported)`.slice(0, 80) },
			description.plan,
			description.estimate
		);
		for (const link of description.links) {
			const runId = imported.get(link.runId);
			if (runId === undefined) continue;
			linkStudyRun(db, id, {
				sourceKey: link.sourceKey,
				repeat: link.repeat,
				runId,
				reused: false
			});
		}
		return id;
	})();
}
