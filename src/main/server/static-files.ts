import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * The Content-Security-Policy of every page, in Electron and in web mode: only the app's own
 * scripts and styles, no inline code, no plugins, no framing. `connect-src 'self'` also admits
 * the same-origin WebSocket of web mode.
 */
export const contentSecurityPolicy = [
	"default-src 'self'",
	"script-src 'self'",
	"style-src 'self'",
	"img-src 'self' data: blob:",
	"font-src 'self'",
	"connect-src 'self'",
	"object-src 'none'",
	"base-uri 'none'",
	"form-action 'none'",
	"frame-ancestors 'none'"
].join('; ');

const mimeTypes: Record<string, string> = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.mjs': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8',
	'.json': 'application/json; charset=utf-8',
	'.svg': 'image/svg+xml',
	'.png': 'image/png',
	'.jpg': 'image/jpeg',
	'.webp': 'image/webp',
	'.ico': 'image/x-icon',
	'.woff2': 'font/woff2',
	'.wasm': 'application/wasm',
	'.txt': 'text/plain; charset=utf-8'
};

/** A file of the built renderer, ready to send. */
export interface StaticFile {
	body: Buffer;
	contentType: string;
}

/**
 * Reads a file of the built renderer for a URL path. Returns null for anything outside `root`
 * (`..`, encoded or not), for folders and for missing files.
 */
export async function readStaticFile(root: string, urlPath: string): Promise<StaticFile | null> {
	let pathname: string;
	try {
		pathname = decodeURIComponent(urlPath.split(/[?#]/)[0] ?? '/');
	} catch {
		return null;
	}
	if (pathname.includes('\0')) return null;
	if (pathname === '/' || pathname === '') pathname = '/index.html';
	const base = path.resolve(root);
	const file = path.resolve(base, `.${pathname}`);
	if (!file.startsWith(base + path.sep)) return null;
	try {
		const body = await fs.readFile(file);
		const contentType = mimeTypes[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
		return { body, contentType };
	} catch {
		return null;
	}
}
