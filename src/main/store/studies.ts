/** Studies as stored: the study row, its sources with their plans, targets and run links. */
import type Database from 'better-sqlite3';
import {
	sourcePlanSchema,
	studyBudgetSchema,
	studyEstimateSchema,
	studyEvaluationSchema,
	studySourceSchema,
	studyTargetSchema,
	type SourcePlan,
	type StudyEstimate,
	type StudySpec
} from '../../core/api/studies';

interface StudyRow {
	id: number;
	name: string;
	template: string | null;
	budget: string;
	evaluation: string;
	repeats: number;
	seed: number;
	data_seed: number;
	estimate: string | null;
	created_at: string;
	updated_at: string;
}

/** A study as stored: its spec, its sources' plans and its estimate. */
export interface StoredStudy {
	id: number;
	spec: StudySpec;
	plan: SourcePlan[];
	estimate: StudyEstimate | null;
	createdAt: string;
}

/** A (source, repeat) → run link. */
export interface StudyRunRow {
	sourceKey: string;
	repeat: number;
	runId: number;
	reused: boolean;
}

/** Stores a new study with its sources, their plans and its targets; returns its id. */
export function createStudy(
	db: Database.Database,
	spec: StudySpec,
	plan: readonly SourcePlan[],
	estimate: StudyEstimate | null
): number {
	return db.transaction(() => {
		const { evaluation } = spec;
		const { targets, ...settings } = evaluation;
		const { lastInsertRowid } = db
			.prepare(
				`INSERT INTO studies (name, template, budget, evaluation, repeats, seed, data_seed, estimate)
				 VALUES (@name, @template, @budget, @evaluation, @repeats, @seed, @dataSeed, @estimate)`
			)
			.run({
				name: spec.name,
				template: spec.template,
				budget: JSON.stringify(spec.budget),
				evaluation: JSON.stringify(settings),
				repeats: spec.repeats,
				seed: spec.seed,
				dataSeed: spec.dataSeed,
				estimate: estimate ? JSON.stringify(estimate) : null
			});
		const id = Number(lastInsertRowid);
		const addSource = db.prepare(
			`INSERT INTO study_sources (study_id, key, position, source, plan) VALUES (?, ?, ?, ?, ?)`
		);
		spec.sources.forEach((source, position) => {
			const sourcePlan = plan.find((candidate) => candidate.key === source.key);
			addSource.run(
				id,
				source.key,
				position,
				JSON.stringify(source),
				JSON.stringify(sourcePlan ?? null)
			);
		});
		const addTarget = db.prepare(
			`INSERT INTO study_targets (study_id, position, dataset, protocol, layer) VALUES (?, ?, ?, ?, ?)`
		);
		targets.forEach((target, position) =>
			addTarget.run(id, position, target.dataset, target.protocol, target.layer)
		);
		return id;
	})();
}

/** Replaces a source's stored plan (which carries the source's realism once measured). */
export function updateSourcePlan(db: Database.Database, studyId: number, plan: SourcePlan): void {
	db.prepare('UPDATE study_sources SET plan = ? WHERE study_id = ? AND key = ?').run(
		JSON.stringify(plan),
		studyId,
		plan.key
	);
	db.prepare(
		`UPDATE studies SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`
	).run(studyId);
}

function toStudy(db: Database.Database, row: StudyRow): StoredStudy {
	const sources = db
		.prepare('SELECT source, plan FROM study_sources WHERE study_id = ? ORDER BY position')
		.all(row.id) as { source: string; plan: string }[];
	const targets = db
		.prepare(
			'SELECT dataset, protocol, layer FROM study_targets WHERE study_id = ? ORDER BY position'
		)
		.all(row.id);
	const plans = sources
		.map((source) => sourcePlanSchema.safeParse(JSON.parse(source.plan)))
		.filter((parsed) => parsed.success)
		.map((parsed) => parsed.data);
	const estimate =
		row.estimate === null ? null : studyEstimateSchema.safeParse(JSON.parse(row.estimate));
	return {
		id: row.id,
		spec: {
			name: row.name,
			template: row.template,
			// Parsing fills defaults added by later versions, so old rows stay readable.
			sources: sources.map((source) => studySourceSchema.parse(JSON.parse(source.source))),
			budget: studyBudgetSchema.parse(JSON.parse(row.budget)),
			repeats: row.repeats,
			seed: row.seed,
			dataSeed: row.data_seed,
			evaluation: studyEvaluationSchema.parse({
				...(JSON.parse(row.evaluation) as object),
				targets: targets.map((target) => studyTargetSchema.parse(target))
			})
		},
		plan: plans,
		estimate: estimate?.success ? estimate.data : null,
		createdAt: row.created_at
	};
}

/** Every study, newest first. */
export function listStudies(db: Database.Database): StoredStudy[] {
	return (db.prepare('SELECT * FROM studies ORDER BY id DESC').all() as StudyRow[]).map((row) =>
		toStudy(db, row)
	);
}

/** One study. */
export function getStudy(db: Database.Database, id: number): StoredStudy | undefined {
	const row = db.prepare('SELECT * FROM studies WHERE id = ?').get(id) as StudyRow | undefined;
	return row ? toStudy(db, row) : undefined;
}

/** Deletes a study with its sources, targets and links (its runs stay). */
export function deleteStudy(db: Database.Database, id: number): boolean {
	return db.prepare('DELETE FROM studies WHERE id = ?').run(id).changes > 0;
}

/** Links a (source, repeat) of a study to a run. */
export function linkStudyRun(db: Database.Database, studyId: number, link: StudyRunRow): void {
	db.prepare(
		`INSERT OR REPLACE INTO study_runs (study_id, source_key, repeat, run_id, reused)
		 VALUES (?, ?, ?, ?, ?)`
	).run(studyId, link.sourceKey, link.repeat, link.runId, link.reused ? 1 : 0);
}

/** A study's run links, by source order then repeat. */
export function listStudyRuns(db: Database.Database, studyId: number): StudyRunRow[] {
	return (
		db
			.prepare(
				`SELECT l.source_key AS sourceKey, l.repeat AS repeat, l.run_id AS runId, l.reused AS reused
				 FROM study_runs l JOIN study_sources s ON s.study_id = l.study_id AND s.key = l.source_key
				 WHERE l.study_id = ? ORDER BY s.position, l.repeat`
			)
			.all(studyId) as { sourceKey: string; repeat: number; runId: number; reused: number }[]
	).map((row) => ({ ...row, reused: row.reused === 1 }));
}

/** The ids of the studies a run belongs to. */
export function studiesOfRun(db: Database.Database, runId: number): number[] {
	return (
		db.prepare('SELECT DISTINCT study_id AS id FROM study_runs WHERE run_id = ?').all(runId) as {
			id: number;
		}[]
	).map((row) => row.id);
}
