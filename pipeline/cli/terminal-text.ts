/**
 * Text from outside defrost (a config key, a tampered run record, a file name) shown on a
 * terminal: control characters — C0, DEL, C1 (which includes the 8-bit CSI) and the Unicode
 * bidirectional overrides that reorder what is displayed — are shown escaped (`\u001b`), never
 * sent raw, so no escape sequence can move the cursor, retitle the window or hide text.
 */

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const escaped = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** One cell or value: every control character escaped, newlines and tabs included. */
export function terminalText(text: string): string {
  return text.replace(CONTROL, escaped);
}

/** A message of several lines: control characters escaped, its own newlines and tabs kept. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL_BUT_LINES, escaped);
}
