/**
 * Offers text as a file download through a Blob link; this works the same in a browser and in
 * Electron's renderer, which saves it through its download dialog.
 */
export function downloadText(fileName: string, text: string, mimeType: string): void {
	downloadBlob(fileName, new Blob([text], { type: `${mimeType};charset=utf-8` }));
}

/** Offers bytes (e.g. a PNG) as a file download. */
export function downloadBlob(fileName: string, blob: Blob): void {
	const url = URL.createObjectURL(blob);
	const link = document.createElement('a');
	link.href = url;
	link.download = fileName;
	link.style.display = 'none';
	document.body.append(link);
	link.click();
	link.remove();
	// Revoked later: some browsers read the URL after click() returns.
	setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
