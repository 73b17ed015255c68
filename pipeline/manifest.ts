/**
 * `manifest.json`: the record that makes a directory a published instance (SPEC section 3).
 * It is written last, atomically; a directory whose manifest is missing, unparsable or invalid is
 * never a result. Only the `files` list describes deterministic outputs (the log and the
 * manifest itself, which hold times, are outside it), so `verify` can check every byte.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { JsonObject } from './stage.js';

export const MANIFEST_FILE = 'manifest.json';
export const LOG_FILE = 'log.txt';
export const MANIFEST_FORMAT = 1;

const jsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);
const jsonObject = z.record(z.string(), jsonValue);

export const manifestFileSchema = z.object({
  /** Relative to the instance directory, `/`-separated. */
  path: z.string().min(1),
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
    text = readFileSync(join(dir, MANIFEST_FILE), 'utf8');
  } catch (error) {
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
