/**
 * Datasets generated in parts on many machines (`noiselab generate --part I/N`): checking a
 * folder or a set of shards against its manifests (`noiselab dataset verify`) and joining the
 * parts' manifests into one (`noiselab dataset merge`). Parts never share a file: each renders
 * whole sub-folders of 1000 images, writes their shards under the sub-folder's name and its
 * own `manifest.part-I-of-N.json`, so the parts' folders can simply be copied into one.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AppFailure } from '../../core/api/errors';
import {
	imagesPerFolder,
	manifestFileName,
	sameDataset,
	shardName,
	type DatasetManifest
} from '../../core/generators/manifest';
import { findGenerator } from '../../core/generators/registry';
import { hasCompleteImage, isManifestName, readManifest, writeManifest } from './export-dataset';
import { unpackTar } from './tar';

/** What `verifyDataset` found. */
export interface DatasetReport {
	folder: string;
	/** The manifests checked: `manifest.json`, or every part's when the parts are not merged. */
	manifests: string[];
	/** Parts present / expected, when the dataset was generated in parts. */
	parts: { present: number[]; expected: number } | null;
	expected: number;
	/** Complete image files found (null when the folder holds shards only). */
	images: number | null;
	/** Indices with no complete image file, first 100. */
	missing: number[];
	missingCount: number;
	shards: { checked: number; problems: string[] } | null;
	/** Every problem in words; empty when the folder matches its manifests. */
	problems: string[];
}

function manifestsIn(folder: string): { name: string; manifest: DatasetManifest }[] {
	if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) {
		throw new AppFailure('NOT_FOUND', `${folder} is not a folder.`);
	}
	const names = fs.readdirSync(folder).filter(isManifestName).sort();
	if (names.length === 0) {
		throw new AppFailure(
			'INVALID_REQUEST',
			`${folder} holds no NoiseLab manifest (manifest.json or manifest.part-I-of-N.json).`
		);
	}
	return names.map((name) => {
		const read = readManifest(path.join(folder, name));
		if (!read.ok) throw new AppFailure('INVALID_REQUEST', read.error.message);
		return { name, manifest: read.value };
	});
}

/** The sub-folders (by index) a manifest's range covers. */
function foldersOf(manifest: DatasetManifest): number[] {
	const first = Math.floor(manifest.startIndex / imagesPerFolder);
	const last = Math.floor((manifest.startIndex + manifest.count - 1) / imagesPerFolder);
	return Array.from({ length: last - first + 1 }, (_, k) => first + k);
}

/**
 * Checks `folder` against its manifests: every index's image is there and complete (unless the
 * folder holds only shards), every shard holds exactly its sub-folder's images, with the
 * SHA-256 recorded when it was written; parts: all N present and of one dataset.
 */
export function verifyDataset(folder: string): DatasetReport {
	const all = manifestsIn(folder);
	const whole = all.find(({ name }) => name === manifestFileName(null));
	const checked = whole ? [whole] : all;
	const problems: string[] = [];
	const first = (checked[0] as (typeof checked)[number]).manifest;
	for (const { name, manifest } of all) {
		if (!sameDataset(manifest, first, findGenerator))
			problems.push(`${name} describes another dataset than ${checked[0]?.name}.`);
	}
	let parts: DatasetReport['parts'] = null;
	if (!whole && first.part) {
		const expected = first.part.of;
		const present = checked.map(({ manifest }) => manifest.part?.index ?? 0).sort((a, b) => a - b);
		parts = { present, expected };
		const absent = Array.from({ length: expected }, (_, k) => k + 1).filter(
			(k) => !present.includes(k)
		);
		if (absent.length > 0)
			problems.push(
				`Parts ${absent.join(', ')} of ${expected} are missing (no manifest.part-…-of-${String(expected).padStart(4, '0')}.json).`
			);
	}
	const imageFolders = fs.readdirSync(folder).filter((name) => /^\d{8}$/.test(name));
	const checkImages = imageFolders.length > 0 || !checked.some(({ manifest }) => manifest.shards);
	let images: number | null = checkImages ? 0 : null;
	const missing: number[] = [];
	let missingCount = 0;
	let expected = 0;
	let shardsChecked = 0;
	const shardProblems: string[] = [];
	for (const { name, manifest } of checked) {
		expected += manifest.count;
		if (!manifest.complete)
			problems.push(
				`${name}: the generation did not finish (${manifest.written} of ${manifest.count}); run the same command again to resume it.`
			);
		if (checkImages) {
			for (let index = manifest.startIndex; index < manifest.startIndex + manifest.count; index++) {
				if (hasCompleteImage(folder, index, manifest.format)) {
					images = (images ?? 0) + 1;
				} else {
					missingCount++;
					if (missing.length < 100) missing.push(index);
				}
			}
		}
		if (!manifest.shards) continue;
		for (const folderIndex of foldersOf(manifest)) {
			const shard = shardName(folderIndex);
			const file = path.join(folder, 'shards', shard);
			shardsChecked++;
			let bytes: Buffer;
			try {
				bytes = fs.readFileSync(file);
			} catch {
				shardProblems.push(`${shard} is missing.`);
				continue;
			}
			const recorded = manifest.shardHashes[shard];
			if (
				recorded !== undefined &&
				crypto.createHash('sha256').update(bytes).digest('hex') !== recorded
			) {
				shardProblems.push(
					`${shard}: its SHA-256 differs from the one recorded when it was written.`
				);
				continue;
			}
			const from = Math.max(manifest.startIndex, folderIndex * imagesPerFolder);
			const to = Math.min(
				manifest.startIndex + manifest.count,
				(folderIndex + 1) * imagesPerFolder
			);
			const wanted = Array.from(
				{ length: to - from },
				(_, k) => `${String(from + k).padStart(8, '0')}.${manifest.format}`
			);
			let names: string[];
			try {
				names = unpackTar(bytes).map((entry) => entry.name);
			} catch {
				shardProblems.push(`${shard} is not a readable tar archive.`);
				continue;
			}
			if (names.join('\n') !== wanted.join('\n')) {
				const absent = wanted.filter((entry) => !names.includes(entry));
				shardProblems.push(
					`${shard} holds ${names.length} of ${wanted.length} images${absent.length > 0 ? ` (missing ${absent.slice(0, 5).join(', ')}${absent.length > 5 ? ', …' : ''})` : ', or others'}.`
				);
			}
		}
	}
	if (missingCount > 0)
		problems.push(
			`${missingCount} of ${expected} images are missing or incomplete (first: ${missing.slice(0, 10).join(', ')}).`
		);
	problems.push(...shardProblems);
	return {
		folder,
		manifests: checked.map(({ name }) => name),
		parts,
		expected,
		images,
		missing,
		missingCount,
		shards: shardsChecked > 0 ? { checked: shardsChecked, problems: shardProblems } : null,
		problems
	};
}

/**
 * Writes one `manifest.json` for a dataset whose N parts were generated into `folder` (or copied
 * there): all parts present, of one dataset, complete; the merged manifest describes the whole
 * range, as a single generation would, with every shard's hash.
 */
export function mergeDatasetParts(folder: string): DatasetManifest {
	const parts = manifestsIn(folder).filter(({ manifest }) => manifest.part !== null);
	if (parts.length === 0)
		throw new AppFailure(
			'INVALID_REQUEST',
			`${folder} holds no part manifests (manifest.part-I-of-N.json) to merge.`
		);
	const first = (parts[0] as (typeof parts)[number]).manifest;
	const info = first.part as NonNullable<DatasetManifest['part']>;
	const problems: string[] = [];
	for (const { name, manifest } of parts) {
		if (
			!sameDataset(manifest, first, findGenerator) ||
			manifest.part?.of !== info.of ||
			manifest.part.datasetStartIndex !== info.datasetStartIndex ||
			manifest.part.datasetCount !== info.datasetCount
		) {
			problems.push(`${name} belongs to another dataset or another split.`);
		}
		if (!manifest.complete)
			problems.push(
				`${name}: part ${manifest.part?.index} is unfinished (${manifest.written} of ${manifest.count}); run it again to resume.`
			);
	}
	const present = new Set(parts.map(({ manifest }) => manifest.part?.index));
	const absent = Array.from({ length: info.of }, (_, k) => k + 1).filter((k) => !present.has(k));
	if (absent.length > 0)
		problems.push(
			`Parts ${absent.join(', ')} of ${info.of} are missing; generate them (or copy their folders here) first.`
		);
	if (problems.length > 0)
		throw new AppFailure('INVALID_REQUEST', `Cannot merge ${folder}:\n  ${problems.join('\n  ')}`);
	const ordered = parts.map(({ manifest }) => manifest).sort((a, b) => a.startIndex - b.startIndex);
	const merged: DatasetManifest = {
		...first,
		startIndex: info.datasetStartIndex,
		count: info.datasetCount,
		written: ordered.reduce((sum, manifest) => sum + manifest.written, 0),
		complete: true,
		shards: ordered.some((manifest) => manifest.shards),
		shardHashes: Object.fromEntries(
			ordered
				.flatMap((manifest) => Object.entries(manifest.shardHashes))
				.sort(([a], [b]) => a.localeCompare(b))
		),
		createdAt: ordered.map((manifest) => manifest.createdAt).sort()[0] as string,
		completedAt:
			ordered
				.map((manifest) => manifest.completedAt ?? '')
				.sort()
				.at(-1) ?? null,
		part: null
	};
	writeManifest(folder, merged);
	return merged;
}
