/**
 * Parses CSV as RFC 4180 writes it (quoted fields with doubled quotes, CRLF or LF between
 * records), so that a test reads an exported file the way a spreadsheet would rather than
 * trusting the exporter's own helpers.
 */
export function parseCsv(text: string): string[][] {
	const records: string[][] = [];
	let record: string[] = [];
	let field = '';
	let quoted = false;
	for (let index = 0; index < text.length; index++) {
		const char = text[index];
		if (quoted) {
			if (char === '"' && text[index + 1] === '"') {
				field += '"';
				index++;
			} else if (char === '"') quoted = false;
			else field += char;
		} else if (char === '"') quoted = true;
		else if (char === ',') {
			record.push(field);
			field = '';
		} else if (char === '\n' || char === '\r') {
			if (char === '\r' && text[index + 1] === '\n') index++;
			record.push(field);
			records.push(record);
			record = [];
			field = '';
		} else field += char;
	}
	if (field !== '' || record.length > 0) records.push([...record, field]);
	return records;
}
