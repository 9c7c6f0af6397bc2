/**
 * What an exported Explain PNG says about itself: the method, layer, encoders and target as
 * text. The same lines head the image drawn by the renderer and travel inside every export (UI
 * and CLI) as PNG `iTXt` chunks (UTF-8), so a figure found on disk later still says what it shows.
 */

/** What an exported map shows. */
export interface ExplainCaptionSource {
	/** The CAM method's label, e.g. "Grad-CAM (GradCAM)". */
	method: string;
	/** The layer each encoder's map was taken at (e.g. conv5, or layer4 for a ResNet). */
	encoders: { label: string; layer: string; target: string }[];
}

/** The caption lines: method and layer(s), then one line per encoder with its target. */
export function explainCaption(source: ExplainCaptionSource): string[] {
	const layers = [...new Set(source.encoders.map((encoder) => encoder.layer))];
	const targets = new Set(source.encoders.map((encoder) => encoder.target));
	const letters = 'ABCDEFGH';
	return [
		`${source.method} at ${layers.join(' / ')}${targets.size > 1 ? ' · the encoders explain different targets' : ''}`,
		...source.encoders.map(
			(encoder, slot) =>
				`${letters[slot] ?? slot + 1}: ${encoder.label} — explains ${encoder.target}`
		)
	];
}

const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

let crcTable: Uint32Array | null = null;

function crc32(bytes: Uint8Array): number {
	if (!crcTable) {
		crcTable = new Uint32Array(256);
		for (let n = 0; n < 256; n++) {
			let c = n;
			for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
			crcTable[n] = c >>> 0;
		}
	}
	let crc = 0xffffffff;
	for (const byte of bytes) crc = (crcTable[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
	return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
	const out = new Uint8Array(12 + data.length);
	const view = new DataView(out.buffer);
	view.setUint32(0, data.length);
	const typed = new TextEncoder().encode(type);
	out.set(typed, 4);
	out.set(data, 8);
	view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
	return out;
}

function isPng(png: Uint8Array): boolean {
	return signature.every((byte, index) => png[index] === byte);
}

/**
 * `png` with an uncompressed international text chunk (`iTXt`) per entry, placed right after
 * the header chunk. Keywords are 1–79 Latin letters, digits or spaces (PNG's rule).
 */
export function withPngText(png: Uint8Array, entries: Record<string, string>): Uint8Array {
	if (!isPng(png)) throw new Error('Not a PNG file: cannot add text to it.');
	const headerEnd = 8 + 12 + new DataView(png.buffer, png.byteOffset).getUint32(8);
	const encoder = new TextEncoder();
	const chunks = Object.entries(entries).map(([keyword, text]) => {
		if (!/^[A-Za-z0-9 ]{1,79}$/.test(keyword))
			throw new Error(`Bad PNG text keyword "${keyword}".`);
		// keyword \0, compression flag 0, method 0, language "" \0, translated keyword "" \0, text.
		const body = encoder.encode(`${keyword}\0\0\0\0\0${text}`);
		return chunk('iTXt', body);
	});
	const size = png.length + chunks.reduce((sum, part) => sum + part.length, 0);
	const out = new Uint8Array(size);
	out.set(png.subarray(0, headerEnd), 0);
	let offset = headerEnd;
	for (const part of chunks) {
		out.set(part, offset);
		offset += part.length;
	}
	out.set(png.subarray(headerEnd), offset);
	return out;
}

/** The `iTXt` and `tEXt` entries of a PNG, keyword → text (for tests and tools). */
export function readPngText(png: Uint8Array): Record<string, string> {
	if (!isPng(png)) throw new Error('Not a PNG file.');
	const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
	const decoder = new TextDecoder();
	const entries: Record<string, string> = {};
	for (let offset = 8; offset + 12 <= png.length;) {
		const length = view.getUint32(offset);
		const type = decoder.decode(png.subarray(offset + 4, offset + 8));
		const data = png.subarray(offset + 8, offset + 8 + length);
		if (type === 'iTXt' || type === 'tEXt') {
			const end = data.indexOf(0);
			const keyword = decoder.decode(data.subarray(0, end));
			if (type === 'tEXt') entries[keyword] = decoder.decode(data.subarray(end + 1));
			else {
				// Skip compression flag and method, then the language tag and translated keyword.
				let at = end + 3;
				at = data.indexOf(0, at) + 1;
				at = data.indexOf(0, at) + 1;
				entries[keyword] = decoder.decode(data.subarray(at));
			}
		}
		offset += 12 + length;
	}
	return entries;
}

/** The text entries of an Explain export: a one-line title and the caption's lines. */
export function explainPngEntries(source: ExplainCaptionSource): Record<string, string> {
	const caption = explainCaption(source);
	return {
		Title: `NoiseLab Explain: ${caption[0] ?? ''}`,
		Description: caption.join('\n'),
		Software: 'NoiseLab'
	};
}
