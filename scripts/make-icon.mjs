// Draws resources/icon.png: a dead-leaves image (the paper's simplest generator) inside a rounded
// square. Run `node scripts/make-icon.mjs` to redraw it; the output is committed.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const size = 512;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// mulberry32: a small seeded PRNG, so the icon is the same on every run.
let seed = 20211206;
const random = () => {
	seed = (seed + 0x6d2b79f5) | 0;
	let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
	t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
	return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const palette = [
	[58, 109, 240],
	[33, 73, 184],
	[124, 156, 255],
	[240, 180, 60],
	[230, 110, 80],
	[40, 50, 70],
	[90, 200, 160],
	[245, 245, 250],
	[170, 110, 220]
];
const rgba = new Uint8Array(size * size * 4);
const covered = new Uint8Array(size * size);
let remaining = size * size;
// Leaves fall front to back: a pixel keeps the first leaf that covers it. Radii follow r^-3.
const [rmin, rmax, sigma] = [10, 170, 3];
while (remaining > 0) {
	const u = random();
	const a = rmin ** (1 - sigma),
		b = rmax ** (1 - sigma);
	const r = (a + u * (b - a)) ** (1 / (1 - sigma));
	const cx = random() * size,
		cy = random() * size;
	const colour = palette[Math.floor(random() * palette.length)];
	for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(size, cy + r); y++) {
		for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(size, cx + r); x++) {
			const i = y * size + x;
			if (covered[i] || (x - cx) ** 2 + (y - cy) ** 2 > r * r) continue;
			covered[i] = 1;
			remaining--;
			rgba.set([...colour, 255], i * 4);
		}
	}
}
// Rounded-square mask with a soft edge.
const radius = 96,
	inset = 16;
for (let y = 0; y < size; y++) {
	for (let x = 0; x < size; x++) {
		const dx = Math.max(inset + radius - x, 0, x - (size - inset - radius - 1));
		const dy = Math.max(inset + radius - y, 0, y - (size - inset - radius - 1));
		const outside = Math.hypot(dx, dy) - radius;
		const edge = x < inset || y < inset || x >= size - inset || y >= size - inset ? 1 : outside;
		rgba[(y * size + x) * 4 + 3] = Math.round(255 * Math.min(1, Math.max(0, 0.5 - edge)));
	}
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
	let c = n;
	for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	return c >>> 0;
});
const crc32 = (bytes) => {
	let c = 0xffffffff;
	for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
	const out = Buffer.alloc(12 + data.length);
	out.writeUInt32BE(data.length, 0);
	out.write(type, 4, 'ascii');
	data.copy(out, 8);
	out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
	return out;
};
const header = Buffer.alloc(13);
header.writeUInt32BE(size, 0);
header.writeUInt32BE(size, 4);
header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
const raw = Buffer.alloc(size * (size * 4 + 1));
for (let y = 0; y < size; y++) {
	raw[y * (size * 4 + 1)] = 0; // filter: none
	Buffer.from(rgba.buffer, y * size * 4, size * 4).copy(raw, y * (size * 4 + 1) + 1);
}
const png = Buffer.concat([
	Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
	chunk('IHDR', header),
	chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
	chunk('IEND', Buffer.alloc(0))
]);
fs.mkdirSync(path.join(root, 'resources'), { recursive: true });
fs.writeFileSync(path.join(root, 'resources', 'icon.png'), png);
console.log(`Wrote resources/icon.png (${png.length} bytes).`);
