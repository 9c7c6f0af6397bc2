/**
 * Integer rasterisers for dead leaves that reproduce OpenCV's non-anti-aliased filled primitives
 * (`cv2.circle(..., thickness=-1)` and `cv2.fillPoly` with LINE_8, shift 0), which the paper's
 * generator draws with. Shapes are emitted as clipped horizontal spans rather than painted, so
 * the renderer can decide per pixel which leaf is visible without ever overdrawing.
 *
 * No anti-aliasing: every pixel belongs to exactly one leaf, which the textured variant needs.
 */

/** A growable list of horizontal pixel runs `(y, x0, x1)`, inclusive, inside the canvas. */
export class SpanList {
	/** `length * 3` integers: y, x0, x1 for each span. */
	data: Int32Array;
	/** Number of spans. */
	length = 0;

	constructor(capacity = 1024) {
		this.data = new Int32Array(capacity * 3);
	}

	/** Appends the run of pixels x0..x1 (inclusive) of row y. */
	push(y: number, x0: number, x1: number): void {
		let offset = this.length * 3;
		if (offset + 3 > this.data.length) {
			const grown = new Int32Array(this.data.length * 2);
			grown.set(this.data);
			this.data = grown;
		}
		this.data[offset++] = y;
		this.data[offset++] = x0;
		this.data[offset] = x1;
		this.length++;
	}

	/** Forgets every span but keeps the memory. */
	clear(): void {
		this.length = 0;
	}

	/** Number of pixels covered, counting overlapping spans twice. */
	pixelCount(): number {
		let total = 0;
		for (let i = 0; i < this.length; i++) {
			total += (this.data[i * 3 + 2] as number) - (this.data[i * 3 + 1] as number) + 1;
		}
		return total;
	}
}

// Half-widths of OpenCV's filled midpoint circle, per row offset, cached by radius: discs are
// the most common leaf and the table only depends on the radius.
const discHalfWidths = new Map<number, Int32Array>();

/**
 * The half-width of each row of a filled circle as OpenCV's `Circle` draws it: row `cy ± k`
 * covers `cx - w[k] .. cx + w[k]`.
 */
export function discHalfWidthTable(radius: number): Int32Array {
	const cached = discHalfWidths.get(radius);
	if (cached) return cached;
	const widths = new Int32Array(radius + 1).fill(-1);
	// OpenCV's midpoint loop; each step fills rows ±dy with half-width dx and rows ±dx with dy.
	let err = 0;
	let dx = radius;
	let dy = 0;
	let plus = 1;
	let minus = (radius << 1) - 1;
	while (dx >= dy) {
		if ((widths[dy] as number) < dx) widths[dy] = dx;
		if ((widths[dx] as number) < dy) widths[dx] = dy;
		dy++;
		err += plus;
		plus += 2;
		const mask = (err <= 0 ? 1 : 0) - 1;
		err -= minus & mask;
		dx += mask;
		minus -= mask & 2;
	}
	discHalfWidths.set(radius, widths);
	return widths;
}

/** Appends the spans of `cv2.circle(img, (cx, cy), radius, colour, thickness=-1)`. */
export function rasteriseDisc(
	cx: number,
	cy: number,
	radius: number,
	size: number,
	out: SpanList
): void {
	const widths = discHalfWidthTable(radius);
	const top = Math.max(cy - radius, 0);
	const bottom = Math.min(cy + radius, size - 1);
	for (let y = top; y <= bottom; y++) {
		const half = widths[Math.abs(y - cy)] as number;
		const x0 = Math.max(cx - half, 0);
		const x1 = Math.min(cx + half, size - 1);
		if (x0 <= x1) out.push(y, x0, x1);
	}
}

/**
 * OpenCV's `clipLine` for a `size`×`size` image, in place on `points` = [x1, y1, x2, y2].
 * Like OpenCV, it may move the points even when it reports the line as outside.
 */
function clipLine(points: Int32Array, size: number): boolean {
	const last = size - 1;
	let x1 = points[0] as number;
	let y1 = points[1] as number;
	let x2 = points[2] as number;
	let y2 = points[3] as number;
	let c1 = (x1 < 0 ? 1 : 0) + (x1 > last ? 2 : 0) + (y1 < 0 ? 4 : 0) + (y1 > last ? 8 : 0);
	let c2 = (x2 < 0 ? 1 : 0) + (x2 > last ? 2 : 0) + (y2 < 0 ? 4 : 0) + (y2 > last ? 8 : 0);
	if ((c1 & c2) === 0 && (c1 | c2) !== 0) {
		if (c1 & 12) {
			const a = c1 < 8 ? 0 : last;
			x1 += Math.trunc(((a - y1) * (x2 - x1)) / (y2 - y1));
			y1 = a;
			c1 = (x1 < 0 ? 1 : 0) + (x1 > last ? 2 : 0);
		}
		if (c2 & 12) {
			const a = c2 < 8 ? 0 : last;
			x2 += Math.trunc(((a - y2) * (x2 - x1)) / (y2 - y1));
			y2 = a;
			c2 = (x2 < 0 ? 1 : 0) + (x2 > last ? 2 : 0);
		}
		if ((c1 & c2) === 0 && (c1 | c2) !== 0) {
			if (c1) {
				const a = c1 === 1 ? 0 : last;
				y1 += Math.trunc(((a - x1) * (y2 - y1)) / (x2 - x1));
				x1 = a;
				c1 = 0;
			}
			if (c2) {
				const a = c2 === 1 ? 0 : last;
				y2 += Math.trunc(((a - x2) * (y2 - y1)) / (x2 - x1));
				x2 = a;
				c2 = 0;
			}
		}
	}
	points[0] = x1;
	points[1] = y1;
	points[2] = x2;
	points[3] = y2;
	return (c1 | c2) === 0;
}

/**
 * Appends the spans of an axis-aligned rectangle `left..right` × `top..bottom` (inclusive),
 * clipped: what `cv2.fillPoly` draws for such a polygon (its outline is the rectangle's border).
 */
export function rasteriseRectangle(
	left: number,
	top: number,
	right: number,
	bottom: number,
	size: number,
	out: SpanList
): void {
	const x0 = Math.max(left, 0);
	const x1 = Math.min(right, size - 1);
	if (x0 > x1) return;
	const last = Math.min(bottom, size - 1);
	for (let y = Math.max(top, 0); y <= last; y++) out.push(y, x0, x1);
}

const maxVertices = 8;

/**
 * Scan conversion of one polygon into per-row pieces (outline runs and fill spans), merged into
 * at most two intervals per row: a convex polygon's row is one interval, but its left and right
 * outline pieces may arrive before what joins them. A row that would need a third interval
 * sends the whole polygon down the unmerged path instead.
 */
class PolygonScan {
	/** Per row: low, high, low2, high2 (empty when high < low). */
	rows = new Int32Array(512 * 4);
	/** Per row: number of fill-edge crossings, then up to `maxVertices` crossings (16.16). */
	crossings = new Int32Array(512 * (maxVertices + 1));
	raw: SpanList | null = null;
	gap = false;
	readonly edgeTop = new Int32Array(maxVertices);
	readonly edgeBottom = new Int32Array(maxVertices);
	readonly edgeX = new Int32Array(maxVertices);
	readonly edgeSlope = new Int32Array(maxVertices);
	readonly clip = new Int32Array(4);

	reserve(size: number): void {
		if (this.rows.length >= size * 4) return;
		this.rows = new Int32Array(size * 4);
		this.crossings = new Int32Array(size * (maxVertices + 1));
	}

	add(y: number, x0: number, x1: number): void {
		if (this.raw) {
			this.raw.push(y, x0, x1);
			return;
		}
		const rows = this.rows;
		const at = y * 4;
		let low = rows[at] as number;
		let high = rows[at + 1] as number;
		if (high < low) {
			rows[at] = x0;
			rows[at + 1] = x1;
			return;
		}
		let low2 = rows[at + 2] as number;
		let high2 = rows[at + 3] as number;
		if (x0 <= high + 1 && x1 >= low - 1) {
			if (x0 < low) low = x0;
			if (x1 > high) high = x1;
		} else if (high2 < low2) {
			rows[at + 2] = x0;
			rows[at + 3] = x1;
			return;
		} else if (x0 <= high2 + 1 && x1 >= low2 - 1) {
			if (x0 < low2) low2 = x0;
			if (x1 > high2) high2 = x1;
		} else {
			this.gap = true;
			return;
		}
		// One interval grew and may now touch the other.
		if (low2 <= high2 && low2 <= high + 1 && high2 >= low - 1) {
			if (low2 < low) low = low2;
			if (high2 > high) high = high2;
			low2 = 0;
			high2 = -2;
		}
		rows[at] = low;
		rows[at + 1] = high;
		rows[at + 2] = low2;
		rows[at + 3] = high2;
	}

	/**
	 * Adds the pixels of OpenCV's 8-connected `Line`: clipped to the image first, then a
	 * Bresenham walk from left to right, as one run per row.
	 */
	line(xa: number, ya: number, xb: number, yb: number, size: number): void {
		if ((xa | ya | xb | yb) < 0 || xa >= size || xb >= size || ya >= size || yb >= size) {
			const clip = this.clip;
			clip[0] = xa;
			clip[1] = ya;
			clip[2] = xb;
			clip[3] = yb;
			if (!clipLine(clip, size)) return;
			xa = clip[0] as number;
			ya = clip[1] as number;
			xb = clip[2] as number;
			yb = clip[3] as number;
		}
		if (xb < xa) {
			const x = xa;
			xa = xb;
			xb = x;
			const y = ya;
			ya = yb;
			yb = y;
		}
		const dx = xb - xa;
		const yStep = yb < ya ? -1 : 1;
		const dy = yb < ya ? ya - yb : yb - ya;
		if (dy > dx) {
			// One pixel per row; the walk always steps in y and sometimes in x.
			let err = dy - 2 * dx;
			let x = xa;
			let y = ya;
			for (let i = 0; i <= dy; i++) {
				this.add(y, x, x);
				if (err < 0) {
					err += 2 * (dy - dx);
					x++;
				} else err -= 2 * dx;
				y += yStep;
			}
			return;
		}
		if (dy === 0) {
			this.add(ya, xa, xb);
			return;
		}
		// Closed form of the walk: step i is on row ceil((2·dy·i − dx) / (2·dx)), so row j ends
		// just before step floor(dx·(2j + 1) / (2·dy)) + 1, tracked here without dividing.
		const denominator = 2 * dy;
		const quotientStep = Math.floor((2 * dx) / denominator);
		const remainderStep = 2 * dx - quotientStep * denominator;
		let quotient = Math.floor(dx / denominator);
		let remainder = dx - quotient * denominator;
		let start = xa;
		let y = ya;
		for (let j = 0; j < dy; j++) {
			const end = xa + quotient;
			this.add(y, start, end);
			start = end + 1;
			y += yStep;
			quotient += quotientStep;
			remainder += remainderStep;
			if (remainder >= denominator) {
				remainder -= denominator;
				quotient++;
			}
		}
		this.add(y, start, xb);
	}

	/** OpenCV's `FillEdgeCollection` for a few edges: spans between pairs of sorted crossings. */
	fill(edges: number, top: number, bottom: number, size: number): void {
		const crossings = this.crossings;
		const stride = maxVertices + 1;
		for (let y = top; y <= bottom; y++) crossings[y * stride] = 0;
		for (let e = 0; e < edges; e++) {
			const edgeTop = this.edgeTop[e] as number;
			const first = edgeTop > top ? edgeTop : top;
			const edgeLast = (this.edgeBottom[e] as number) - 1;
			const last = edgeLast < bottom ? edgeLast : bottom;
			const slope = this.edgeSlope[e] as number;
			let x = (this.edgeX[e] as number) + (first - edgeTop) * slope;
			for (let y = first; y <= last; y++, x += slope) {
				const at = y * stride;
				const count = (crossings[at] as number) + 1;
				crossings[at] = count;
				let slot = at + count;
				while (slot > at + 1 && (crossings[slot - 1] as number) > x) {
					crossings[slot] = crossings[slot - 1] as number;
					slot--;
				}
				crossings[slot] = x;
			}
		}
		for (let y = top; y <= bottom; y++) {
			const at = y * stride;
			const count = crossings[at] as number;
			for (let pair = 1; pair < count; pair += 2) {
				// ceil(left) .. floor(right) in 16.16 fixed point.
				let x0 = -(-(crossings[at + pair] as number) >> 16);
				let x1 = (crossings[at + pair + 1] as number) >> 16;
				if (x0 < size && x1 >= 0) {
					if (x0 < 0) x0 = 0;
					if (x1 >= size) x1 = size - 1;
					if (x0 <= x1) this.add(y, x0, x1);
				}
			}
		}
	}

	pieces(
		xs: ArrayLike<number>,
		ys: ArrayLike<number>,
		count: number,
		edges: number,
		top: number,
		bottom: number,
		size: number
	): void {
		// The fill first, so that a row's outline pieces usually touch what is already there.
		if (edges >= 2) this.fill(edges, top, bottom, size);
		let previousX = xs[count - 1] as number;
		let previousY = ys[count - 1] as number;
		for (let i = 0; i < count; i++) {
			const x = xs[i] as number;
			const y = ys[i] as number;
			this.line(previousX, previousY, x, y, size);
			previousX = x;
			previousY = y;
		}
	}

	polygon(
		xs: ArrayLike<number>,
		ys: ArrayLike<number>,
		count: number,
		size: number,
		out: SpanList
	): void {
		let top = 2147483647;
		let bottom = -2147483648;
		let edges = 0;
		let previousX = xs[count - 1] as number;
		let previousY = ys[count - 1] as number;
		for (let i = 0; i < count; i++) {
			const x = xs[i] as number;
			const y = ys[i] as number;
			if (y < top) top = y;
			if (y > bottom) bottom = y;
			// Fill edges run between the integer vertices, even where the outline is clipped
			// (OpenCV up to 4.6; later versions rebuild them from the clipped segment).
			if (previousY !== y) {
				const downwards = previousY < y;
				this.edgeTop[edges] = downwards ? previousY : y;
				this.edgeBottom[edges] = downwards ? y : previousY;
				this.edgeX[edges] = (downwards ? previousX : x) * 65536;
				this.edgeSlope[edges] = ((x - previousX) * 65536) / (y - previousY);
				edges++;
			}
			previousX = x;
			previousY = y;
		}
		if (top < 0) top = 0;
		if (bottom > size - 1) bottom = size - 1;
		if (top > bottom) return;
		this.reserve(size);
		const rows = this.rows;
		for (let at = top * 4; at < (bottom + 1) * 4; at += 2) {
			rows[at] = 0;
			rows[at + 1] = -2;
		}
		this.gap = false;
		this.pieces(xs, ys, count, edges, top, bottom, size);
		if (this.gap) {
			this.raw = out;
			this.pieces(xs, ys, count, edges, top, bottom, size);
			this.raw = null;
			return;
		}
		for (let y = top; y <= bottom; y++) {
			const at = y * 4;
			const low = rows[at] as number;
			const high = rows[at + 1] as number;
			if (low <= high) out.push(y, low, high);
			const low2 = rows[at + 2] as number;
			const high2 = rows[at + 3] as number;
			if (low2 <= high2) out.push(y, low2, high2);
		}
	}
}

const polygonScan = new PolygonScan();

/**
 * Appends the spans of `cv2.fillPoly(img, [vertices], colour)` (LINE_8, no shift) for one
 * polygon of up to 8 integer vertices. OpenCV draws each edge with an 8-connected line and
 * fills between edge pairs on each scanline in 16.16 fixed point, from ceil(left) to
 * floor(right). The union of both is emitted, one span per row where the row is contiguous.
 */
export function rasterisePolygon(
	xs: ArrayLike<number>,
	ys: ArrayLike<number>,
	count: number,
	size: number,
	out: SpanList
): void {
	if (count > maxVertices) {
		throw new RangeError(`rasterisePolygon supports up to ${maxVertices} vertices`);
	}
	polygonScan.polygon(xs, ys, count, size, out);
}
