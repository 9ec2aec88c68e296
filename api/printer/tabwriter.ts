// A port of the behaviour of Go's text/tabwriter (flags 0, no escapes) so table output pads
// exactly like hubble's: tabwriter.NewWriter(w, minwidth 2, tabwidth 0, padding 3, ' ', 0).
// Text is buffered in tab-terminated cells; a column block is a run of consecutive lines that
// have a cell in that column, and it is as wide as its widest cell plus padding. The buffer is
// formatted and written out on flush(), or early when a line with a single cell ends (such a
// line cannot affect the alignment of what follows).

interface Cell {
  text: string;
  width: number;
  htab: boolean;
}

export interface TabWriterOptions {
  minwidth: number;
  padding: number;
  padchar: string;
}

export class TabWriter {
  private lines: Cell[][] = [[]];
  private cellText = '';
  private widths: number[] = [];
  private out = '';

  constructor(
    private readonly sink: (s: string) => void,
    private readonly opts: TabWriterOptions = { minwidth: 2, padding: 3, padchar: ' ' },
  ) {}

  write(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch !== '\t' && ch !== '\v' && ch !== '\n' && ch !== '\f') continue;
      this.cellText += text.slice(start, i);
      start = i + 1;
      const ncells = this.terminateCell(ch === '\t');
      if (ch === '\n' || ch === '\f') {
        this.lines.push([]);
        if (ch === '\f' || ncells === 1) this.flush();
      }
    }
    this.cellText += text.slice(start);
  }

  /** Formats and writes everything buffered (Go's Flush). */
  flush(): void {
    if (this.cellText.length > 0) this.terminateCell(false);
    this.format(0, this.lines.length);
    const out = this.out;
    this.lines = [[]];
    this.cellText = '';
    this.widths = [];
    this.out = '';
    if (out !== '') this.sink(out);
  }

  private terminateCell(htab: boolean): number {
    const line = this.lines[this.lines.length - 1];
    // Width counts runes (code points), as Go's utf8.RuneCount does.
    line.push({ text: this.cellText, width: [...this.cellText].length, htab });
    this.cellText = '';
    return line.length;
  }

  private format(line0: number, line1: number): void {
    const column = this.widths.length;
    for (let cur = line0; cur < line1; cur++) {
      if (column >= this.lines[cur].length - 1) continue;
      // This line has a cell in this column: print the lines before the block, then size it.
      this.writeLines(line0, cur);
      line0 = cur;
      let width = this.opts.minwidth;
      for (; cur < line1; cur++) {
        const line = this.lines[cur];
        if (column >= line.length - 1) break;
        width = Math.max(width, line[column].width + this.opts.padding);
      }
      this.widths.push(width);
      this.format(line0, cur);
      this.widths.pop();
      line0 = cur;
    }
    this.writeLines(line0, line1);
  }

  private writeLines(line0: number, line1: number): void {
    for (let i = line0; i < line1; i++) {
      const line = this.lines[i];
      line.forEach((c, j) => {
        if (c.text.length > 0) this.out += c.text;
        if (j < this.widths.length) this.out += this.opts.padchar.repeat(Math.max(0, this.widths[j] - c.width));
      });
      // The last buffered line has no newline yet: its pending text is written as is.
      if (i + 1 === this.lines.length) this.out += this.cellText;
      else this.out += '\n';
    }
  }
}
