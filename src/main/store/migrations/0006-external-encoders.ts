/**
 * External encoders: a run row is either trained here (`trained`) or an encoder imported from a
 * PyTorch or safetensors file (`imported`), whose architecture, normalisation, file hash,
 * source and licence live in `imported` as JSON.
 */
export default {
	version: 6,
	name: 'external-encoders',
	sql: `
		ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'trained'
			CHECK (kind IN ('trained', 'imported'));
		ALTER TABLE runs ADD COLUMN imported TEXT;
	`
};
