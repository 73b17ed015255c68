/**
 * Canonical content hashes. A cache key must be a pure function of what an instance depends on,
 * independent of the order in which a config or planner happened to write object keys, so
 * everything is hashed through object-hash (keys sorted, arrays kept in order, types
 * distinguished) with sha256.
 */
import objectHash from 'object-hash';
import type { JsonObject, JsonValue } from './stage.js';

/** Length of an instance key in hex characters (64 bits: collisions are not a practical concern). */
export const KEY_LENGTH = 16;

/** sha256 (hex) of a JSON value, independent of object key order. */
export function canonicalHash(value: JsonValue): string {
  return objectHash(value, { algorithm: 'sha256', encoding: 'hex', unorderedObjects: true, unorderedArrays: false });
}

/** What an instance key covers, and nothing else (docs/engine.md). */
export interface KeyMaterial {
  readonly stage: string;
  readonly params: JsonObject;
  /** Input name -> key of the input instance. */
  readonly inputs: Readonly<Record<string, string>>;
  /** The stage's code fingerprint (see `fingerprint.ts`). */
  readonly code: string;
}

/** The cache key of an instance: the first 16 hex characters of the canonical sha256. */
export function instanceKey(material: KeyMaterial): string {
  const value: JsonObject = {
    stage: material.stage,
    params: material.params,
    inputs: { ...material.inputs },
    code: material.code,
  };
  return canonicalHash(value).slice(0, KEY_LENGTH);
}
