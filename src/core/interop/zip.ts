/**
 * A read-only view of a zip archive held in memory, as much of the format as PyTorch's
 * `torch.save` writes: stored (uncompressed) members, optional ZIP64 records. Nothing is ever
 * extracted to disk; members are subarrays of the input. Member names that could escape a
 * folder (`..`, absolute paths, backslashes, drive letters) are refused when the archive is
 * opened, so a hostile archive is rejected before anything reads it.
 */

/** One member of an archive. */
export interface ZipMember {
	name: string;
	/** The member's bytes (a view into the archive). */
	data: Uint8Array;
}

const endOfCentralDirectory = 0x06054b50;
const zip64Locator = 0x07064b50;
const zip64EndOfCentralDirectory = 0x06064b50;
const centralHeader = 0x02014b50;
const localHeader = 0x04034b50;

/** The signature every zip file starts with ("PK\x03\x04"). */
export function looksLikeZip(bytes: Uint8Array): boolean {
	return (
		bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4
	);
}

/** Throws when a member name could point outside the archive's folder. */
export function checkMemberName(name: string): void {
	const unsafe =
		name.length === 0 ||
		name.includes('\\') ||
		name.includes('\0') ||
		name.startsWith('/') ||
		/^[a-zA-Z]:/.test(name) ||
		name.split('/').some((part) => part === '..');
	if (unsafe) {
		throw new Error(
			`The archive has an unsafe member name ${JSON.stringify(name)} (absolute, or climbing out with ".."); refusing the whole file.`
		);
	}
}

/**
 * The members of a zip archive by name. Throws an Error naming the problem for a truncated or
 * corrupt archive, a compressed member, an unsafe or duplicate name.
 */
export function readZip(bytes: Uint8Array): Map<string, ZipMember> {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const eocd = findEndOfCentralDirectory(bytes, view);
	let entries = view.getUint16(eocd + 10, true);
	let directorySize = view.getUint32(eocd + 12, true);
	let directoryOffset = view.getUint32(eocd + 16, true);
	const locator = eocd - 20;
	if (locator >= 0 && view.getUint32(locator, true) === zip64Locator) {
		const record = Number(view.getBigUint64(locator + 8, true));
		if (record + 56 > bytes.length || view.getUint32(record, true) !== zip64EndOfCentralDirectory) {
			throw new Error('The archive is corrupt: its ZIP64 end record is missing or truncated.');
		}
		entries = Number(view.getBigUint64(record + 32, true));
		directorySize = Number(view.getBigUint64(record + 40, true));
		directoryOffset = Number(view.getBigUint64(record + 48, true));
	}
	if (directoryOffset + directorySize > bytes.length) {
		throw new Error(
			`The archive is truncated: its directory needs ${directoryOffset + directorySize} bytes, the file has ${bytes.length}.`
		);
	}
	const members = new Map<string, ZipMember>();
	let at = directoryOffset;
	for (let index = 0; index < entries; index++) {
		if (at + 46 > bytes.length || view.getUint32(at, true) !== centralHeader) {
			throw new Error(`The archive is corrupt: directory entry ${index} is damaged.`);
		}
		const method = view.getUint16(at + 10, true);
		let compressedSize = view.getUint32(at + 20, true);
		let size = view.getUint32(at + 24, true);
		const nameLength = view.getUint16(at + 28, true);
		const extraLength = view.getUint16(at + 30, true);
		const commentLength = view.getUint16(at + 32, true);
		let headerOffset = view.getUint32(at + 42, true);
		const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
		checkMemberName(name);
		// ZIP64 extra field: the 64-bit values of whichever fields hold 0xFFFFFFFF, in order.
		let extra = at + 46 + nameLength;
		const extraEnd = extra + extraLength;
		while (extra + 4 <= extraEnd) {
			const id = view.getUint16(extra, true);
			const length = view.getUint16(extra + 2, true);
			if (id === 1) {
				let field = extra + 4;
				const next = () => {
					const value = Number(view.getBigUint64(field, true));
					field += 8;
					return value;
				};
				if (size === 0xffffffff) size = next();
				if (compressedSize === 0xffffffff) compressedSize = next();
				if (headerOffset === 0xffffffff) headerOffset = next();
			}
			extra += 4 + length;
		}
		if (method !== 0) {
			throw new Error(
				`Archive member ${JSON.stringify(name)} is compressed (method ${method}); PyTorch writes stored members only. Re-save the file with torch.save.`
			);
		}
		if (headerOffset + 30 > bytes.length || view.getUint32(headerOffset, true) !== localHeader) {
			throw new Error(`The archive is truncated or corrupt at member ${JSON.stringify(name)}.`);
		}
		const dataStart =
			headerOffset +
			30 +
			view.getUint16(headerOffset + 26, true) +
			view.getUint16(headerOffset + 28, true);
		if (dataStart + size > bytes.length || compressedSize !== size) {
			throw new Error(
				`The archive is truncated: member ${JSON.stringify(name)} needs bytes up to ${dataStart + size}, the file has ${bytes.length}.`
			);
		}
		if (members.has(name)) {
			throw new Error(`The archive holds member ${JSON.stringify(name)} twice; refusing it.`);
		}
		members.set(name, { name, data: bytes.subarray(dataStart, dataStart + size) });
		at += 46 + nameLength + extraLength + commentLength;
	}
	return members;
}

function findEndOfCentralDirectory(bytes: Uint8Array, view: DataView): number {
	// The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
	const lowest = Math.max(0, bytes.length - 22 - 0xffff);
	for (let at = bytes.length - 22; at >= lowest; at--) {
		if (view.getUint32(at, true) === endOfCentralDirectory) return at;
	}
	throw new Error(
		`The archive is truncated or not a zip file: no end-of-directory record in its last ${Math.min(bytes.length, 22 + 0xffff)} bytes.`
	);
}
