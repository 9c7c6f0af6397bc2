import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/** How one class of the toy dataset is drawn: a shape on a dark ground. */
interface ToyClass {
	name: string;
	/** Whether pixel (x, y) of an image of side `size` belongs to the shape, shifted by `shift`. */
	covers(x: number, y: number, size: number, shift: number): boolean;
}

/** The classes: told apart by shape alone, since every class is drawn in every colour. */
export const toyClasses: readonly ToyClass[] = [
	{
		name: 'squares',
		covers: (x, y, size, shift) => {
			const low = size / 4 + shift;
			return x >= low && x < low + size / 2 && y >= low && y < low + size / 2;
		}
	},
	{
		name: 'discs',
		covers: (x, y, size, shift) => {
			const centre = size / 2 + shift;
			return (x - centre) ** 2 + (y - centre) ** 2 < (size / 4) ** 2;
		}
	},
	{
		name: 'stripes',
		covers: (x, y, size, shift) => Math.floor((x + shift + size) / 6) % 2 === 0
	}
];

/** Shape colours, used in turn by every class. */
const palette: readonly (readonly [number, number, number])[] = [
	[220, 40, 40],
	[40, 200, 60],
	[50, 70, 230]
];

/**
 * Writes an image-folder dataset (one sub-folder per class, no train/ or val/, so the loader
 * makes its own split) of small PNGs under `root`. Image i of a class is shifted by a few pixels,
 * brightened a little and drawn in a colour that does not follow the class: colour alone does not
 * give the class away, so an untrained encoder does not score perfectly and the controls differ.
 * Returns the class folder names.
 */
export async function writeToyImageFolder(
	root: string,
	{ perClass = 12, size = 48 }: { perClass?: number; size?: number } = {}
): Promise<string[]> {
	for (const [classIndex, toy] of toyClasses.entries()) {
		const folder = path.join(root, toy.name);
		fs.mkdirSync(folder, { recursive: true });
		for (let index = 0; index < perClass; index++) {
			const shift = (index % 5) - 2;
			const gain = 0.8 + (0.2 * ((index * 7) % perClass)) / perClass;
			const rgb = palette[(index + classIndex) % palette.length] ?? [255, 255, 255];
			const pixels = Buffer.alloc(size * size * 3, 16);
			for (let y = 0; y < size; y++) {
				for (let x = 0; x < size; x++) {
					if (!toy.covers(x, y, size, shift)) continue;
					const offset = (y * size + x) * 3;
					for (let channel = 0; channel < 3; channel++) {
						pixels[offset + channel] = Math.round((rgb[channel] ?? 0) * gain);
					}
				}
			}
			await sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
				.png()
				.toFile(path.join(folder, `${String(index).padStart(2, '0')}.png`));
		}
	}
	return toyClasses.map((toy) => toy.name);
}
