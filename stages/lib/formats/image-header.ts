/**
 * The size and channels of a PNG or JPEG file from its header, read synchronously without
 * decoding (docs/your-data.md): config-time checks (files/probe.ts) learn the shape of an image
 * folder kept at its own size without loading sharp. Channels follow read-images.ts: grey (with
 * or without alpha) is 1, anything else 3. Null when the header is not one this reader knows;
 * the decoder then reports the file when `generate-data` reads it.
 */
import { readInputHead } from './input-file.js';

export interface ImageHeader {
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** PNG: the IHDR chunk right after the signature holds width, height and colour type. */
function pngHeader(bytes: Buffer): ImageHeader | null {
  if (bytes.length < 26 || !bytes.subarray(0, 8).equals(PNG_SIGNATURE) || bytes.toString('latin1', 12, 16) !== 'IHDR') return null;
  const colourType = bytes[25];
  // 0 grey, 4 grey + alpha; 2 RGB, 3 palette, 6 RGBA.
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20), channels: colourType === 0 || colourType === 4 ? 1 : 3 };
}

/** JPEG: the first start-of-frame marker (SOF0..SOF15 but DHT, JPG and DAC) holds them. */
function jpegHeader(bytes: Buffer): ImageHeader | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = bytes.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
      return { height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7), channels: bytes[at + 9] === 1 ? 1 : 3 };
    at += 2 + length;
  }
  return null;
}

/** The header of a PNG or JPEG file, or null when it is neither (or its frame header lies beyond 64 KiB). */
export function readImageHeader(file: string): ImageHeader | null {
  const bytes = readInputHead(file, 64 * 1024);
  return pngHeader(bytes) ?? jpegHeader(bytes);
}
