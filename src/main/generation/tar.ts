/**
 * A minimal POSIX ustar writer for WebDataset-style shards: regular files only, names up to 100
 * bytes, which is all a shard of `<key>.<ext>` entries needs.
 */

const block = 512;

/** One file in a shard. */
export interface TarEntry {
	name: string;
	data: Buffer;
}

function header(name: string, size: number): Buffer {
	if (Buffer.byteLength(name) > 100)
		throw new Error(`Tar entry name is longer than 100 bytes: ${name}`);
	const buffer = Buffer.alloc(block);
	const field = (text: string, offset: number, length: number) =>
		buffer.write(text, offset, length, 'latin1');
	field(name, 0, 100);
	field('0000644\0', 100, 8); // mode
	field('0000000\0', 108, 8); // uid
	field('0000000\0', 116, 8); // gid
	field(`${size.toString(8).padStart(11, '0')}\0`, 124, 12);
	field('00000000000\0', 136, 12); // mtime 0: shards are reproducible byte for byte
	field('        ', 148, 8); // checksum placeholder
	field('0', 156, 1); // regular file
	field('ustar\0', 257, 6);
	field('00', 263, 2);
	let checksum = 0;
	for (const byte of buffer) checksum += byte;
	field(`${checksum.toString(8).padStart(6, '0')}\0 `, 148, 8);
	return buffer;
}

/** Packs entries into one tar archive. */
export function packTar(entries: readonly TarEntry[]): Buffer {
	const parts: Buffer[] = [];
	for (const entry of entries) {
		parts.push(header(entry.name, entry.data.length), entry.data);
		const padding = (block - (entry.data.length % block)) % block;
		if (padding > 0) parts.push(Buffer.alloc(padding));
	}
	parts.push(Buffer.alloc(2 * block));
	return Buffer.concat(parts);
}

/** Reads the entries of a tar archive written by {@link packTar} (for tests and checks). */
export function unpackTar(archive: Buffer): TarEntry[] {
	const entries: TarEntry[] = [];
	let offset = 0;
	while (offset + block <= archive.length) {
		const head = archive.subarray(offset, offset + block);
		if (head.every((byte) => byte === 0)) break;
		const name = head.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
		const size = parseInt(
			head.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim(),
			8
		);
		offset += block;
		entries.push({ name, data: archive.subarray(offset, offset + size) });
		offset += Math.ceil(size / block) * block;
	}
	return entries;
}
