/**
 * `manifest.json`: the record that makes a directory a published instance (docs/engine.md).
 * It is written last, atomically; a directory whose manifest is missing, unparsable or invalid is
 * never a result. Only the `files` list describes deterministic outputs (the log and the
 * manifest itself, which hold times, are outside it), so `verify` can check every byte.
 */
import { createHash } from 'node:crypto';
import { NotRegularFileError, readRegularText } from './fsutil.js';
import { join } from 'node:path';
import { z } from 'zod';
import type { JsonObject } from './stage.js';

export const MANIFEST_FILE = 'manifest.json';
export const LOG_FILE = 'log.txt';
export const MANIFEST_FORMAT = 1;

/**
 * Params and summary come out of JSON.parse, so every value in them is JSON already: checking
 * that they are objects is enough. (A recursive JSON-value schema made validating the 135
 * manifests of a fully cached run cost a quarter of its time budget.)
 */
const jsonObject = z.record(z.string(), z.unknown());

/**
 * A path inside the instance directory: relative, `/`-separated, no `.`/`..` segments, no
 * backslashes or NULs. An edited manifest must not make `inspect`/`export`/`verify` read outside
 * the store.
 */
export function isSafeRelativePath(path: string): boolean {
  if (path.length === 0 || path.startsWith('/') || path.includes('\\') || path.includes('\0')) return false;
  return path.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

export const manifestFileSchema = z.object({
  /** Relative to the instance directory, `/`-separated. */
  path: z.string().min(1).refine(isSafeRelativePath, 'a relative path inside the instance directory'),
  bytes: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Row count, for `.arrow` tables. */
  rows: z.number().int().min(0).optional(),
});

export const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  key: z.string().regex(/^[0-9a-f]{16}$/),
  stage: z.string().min(1),
  id: z.string(),
  coords: z.record(z.string(), z.union([z.string(), z.number(), z.null()])),
  params: jsonObject,
  inputs: z.record(z.string(), z.object({ stage: z.string(), key: z.string() })),
  code: z.object({ fingerprint: z.string(), files: z.array(z.string()) }),
  files: z.array(manifestFileSchema),
  summary: jsonObject,
  created: z.string(),
  duration_s: z.number().min(0),
  backend: z.string(),
  threads: z.number().int().min(1),
  versions: z.record(z.string(), z.string()),
  log: z.string(),
  /**
   * `sha256:<hex>` of the manifest's own JSON without this field (see `manifestDigest`): an edited
   * manifest (params, summary, file list...) no longer matches and is treated as damaged. Written by
   * every publish; optional only so that hand-made manifests of test fixtures still parse.
   */
  integrity: z.string().optional(),
});

export type ManifestFile = z.infer<typeof manifestFileSchema>;
export type Manifest = Omit<z.infer<typeof manifestSchema>, 'params' | 'summary'> & {
  params: JsonObject;
  summary: JsonObject;
};

export type ManifestRead =
  | { readonly ok: true; readonly manifest: Manifest }
  | { readonly ok: false; readonly reason: 'missing' | 'invalid'; readonly detail: string };

/** Reads and validates `<dir>/manifest.json`; never throws. */
export function readManifest(dir: string): ManifestRead {
  let text: string;
  try {
    // No symlink, FIFO or device: a planted manifest.json must be damage, never a way to read
    // elsewhere or to block (see `readRegularFile`).
    text = readRegularText(join(dir, MANIFEST_FILE), 64 * 1024 * 1024);
  } catch (error) {
    if (error instanceof NotRegularFileError)
      return { ok: false, reason: 'invalid', detail: `manifest.json: ${error.message.replace(/^.*manifest\.json /, '')}` };
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR'
      ? { ok: false, reason: 'missing', detail: 'no manifest.json' }
      : { ok: false, reason: 'invalid', detail: (error as Error).message };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: 'invalid', detail: `manifest.json is not JSON (${(error as Error).message})` };
  }
  if (typeof json === 'object' && json !== null && !Array.isArray(json) && 'integrity' in json) {
    const { integrity, ...rest } = json as Record<string, unknown>;
    if (integrity !== manifestDigest(rest))
      return { ok: false, reason: 'invalid', detail: 'manifest.json was edited (its integrity digest does not match its content)' };
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { ok: false, reason: 'invalid', detail: `manifest.json: ${first.path.join('.')}: ${first.message}` };
  }
  return { ok: true, manifest: parsed.data as Manifest };
}

/** The valid manifest of `dir` if it is the published instance with `key`, else null. */
export function publishedManifest(dir: string, key: string): Manifest | null {
  const read = readManifest(dir);
  return read.ok && read.manifest.key === key ? read.manifest : null;
}

/**
 * The integrity digest of a manifest object (without its `integrity` field): sha256 of its
 * compact JSON in the key order it was written. JSON.parse/JSON.stringify round-trip that order
 * and every number exactly, so a reader recomputes the writer's digest from the file.
 */
export function manifestDigest(manifest: Record<string, unknown>): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(manifest)).digest('hex')}`;
}

/** The manifest as written to disk: its content plus its integrity digest, last. */
export function sealManifest(manifest: Manifest): Manifest {
  const { integrity: _old, ...rest } = manifest;
  void _old;
  return { ...rest, integrity: manifestDigest(rest as Record<string, unknown>) } as Manifest;
}
