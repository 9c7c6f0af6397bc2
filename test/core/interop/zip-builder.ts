/** A minimal zip writer (stored members, no CRC) for hand-made test archives. */
export function buildZip(members: { name: string; data: Uint8Array }[]): Uint8Array {
	const chunks: Uint8Array[] = [];
	const central: Uint8Array[] = [];
	let offset = 0;
	for (const { name, data } of members) {
		const nameBytes = new TextEncoder().encode(name);
		const local = new Uint8Array(30 + nameBytes.length);
		const view = new DataView(local.buffer);
		view.setUint32(0, 0x04034b50, true);
		view.setUint32(18, data.length, true);
		view.setUint32(22, data.length, true);
		view.setUint16(26, nameBytes.length, true);
		local.set(nameBytes, 30);
		const entry = new Uint8Array(46 + nameBytes.length);
		const entryView = new DataView(entry.buffer);
		entryView.setUint32(0, 0x02014b50, true);
		entryView.setUint32(20, data.length, true);
		entryView.setUint32(24, data.length, true);
		entryView.setUint16(28, nameBytes.length, true);
		entryView.setUint32(42, offset, true);
		entry.set(nameBytes, 46);
		chunks.push(local, data);
		central.push(entry);
		offset += local.length + data.length;
	}
	const directorySize = central.reduce((sum, entry) => sum + entry.length, 0);
	const end = new Uint8Array(22);
	const endView = new DataView(end.buffer);
	endView.setUint32(0, 0x06054b50, true);
	endView.setUint16(8, members.length, true);
	endView.setUint16(10, members.length, true);
	endView.setUint32(12, directorySize, true);
	endView.setUint32(16, offset, true);
	const all = [...chunks, ...central, end];
	const out = new Uint8Array(all.reduce((sum, part) => sum + part.length, 0));
	let at = 0;
	for (const part of all) {
		out.set(part, at);
		at += part.length;
	}
	return out;
}

/** Bytes of a protocol-2 pickle from opcodes given as strings and numbers. */
export function pickleBytes(...parts: (string | number[])[]): Uint8Array {
	const bytes: number[] = [0x80, 2];
	for (const part of parts) {
		if (typeof part === 'string') for (const char of part) bytes.push(char.charCodeAt(0));
		else bytes.push(...part);
	}
	return Uint8Array.from(bytes);
}
