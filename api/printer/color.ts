// Colours as hubble's fatih/color usage produces them, and the terminal escaper hubble applies
// to every text line: only its own colour sequences survive; any other ESC prints as "^[" and
// CR as "\r", so flow contents cannot drive the terminal.

export interface Colorer {
  port(s: string): string;
  host(s: string): string;
  identity(s: string): string;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  /** The escape sequences this colorer emits (allowed through the escaper). */
  readonly sequences: readonly string[];
}

const RESET = '\x1b[0m';
const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36 } as const;

function paint(code: number): (s: string) => string {
  return (s) => `\x1b[${code}m${s}${RESET}`;
}

const identity = (s: string): string => s;

export const NO_COLOR: Colorer = {
  port: identity,
  host: identity,
  identity,
  green: identity,
  red: identity,
  yellow: identity,
  sequences: [],
};

export const ANSI_COLOR: Colorer = {
  port: paint(CODES.yellow),
  host: paint(CODES.cyan),
  identity: paint(CODES.magenta),
  green: paint(CODES.green),
  red: paint(CODES.red),
  yellow: paint(CODES.yellow),
  sequences: [...Object.values(CODES).map((c) => `\x1b[${c}m`), RESET],
};

/** Replaces ESC (except allowed sequences) with "^[" and CR with "\r". */
export function escapeTerminal(s: string, allowed: readonly string[] = []): string {
  if (!/[\x1b\r]/.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\x1b') {
      const seq = allowed.find((a) => s.startsWith(a, i));
      if (seq) {
        out += seq;
        i += seq.length - 1;
      } else out += '^[';
    } else if (ch === '\r') out += '\\r';
    else out += ch;
  }
  return out;
}
