// The grid of blobs × 128 columns: one element per cell with data-blob, data-column and
// data-state (what this browser found) and data-light (what the serving light node reported),
// with a roving tabindex so that arrow keys move over it.
import type { CellState } from "./sampler.js";

const COLUMNS = 128;

export interface GridInfo {
  describe(blob: number, column: number): string;
}

export class Grid {
  readonly #root: HTMLElement;
  readonly #cells: HTMLElement[][] = [];
  readonly #info: HTMLElement;
  #focus: [number, number] = [0, 0];

  constructor(
    root: HTMLElement,
    info: HTMLElement,
    blobs: number,
    custody: readonly (readonly number[])[],
    describe: GridInfo,
  ) {
    this.#root = root;
    this.#info = info;
    root.replaceChildren();
    // A CSS grid with the ARIA grid pattern: 128 narrow columns do not fit a table's layout.
    root.setAttribute("role", "grid");
    root.setAttribute("aria-label", `${blobs} blobs × ${COLUMNS} columns`);
    const head = document.createElement("div");
    head.setAttribute("role", "row");
    head.style.display = "contents";
    const corner = document.createElement("div");
    corner.className = "rowhead";
    corner.setAttribute("role", "columnheader");
    corner.textContent = "column";
    head.append(corner);
    for (let c = 0; c < COLUMNS; c++) {
      const h = document.createElement("div");
      h.className = "colhead";
      h.setAttribute("role", "columnheader");
      h.dataset.column = String(c);
      h.dataset.custodians = (custody[c] ?? []).join(",");
      h.title = `column ${c}: custodians ${(custody[c] ?? []).map((n) => `node ${n}`).join(", ")}`;
      h.textContent = c % 16 === 0 ? String(c) : "";
      head.append(h);
    }
    root.append(head);
    for (let b = 0; b < blobs; b++) {
      const row = document.createElement("div");
      row.setAttribute("role", "row");
      row.style.display = "contents";
      const label = document.createElement("div");
      label.className = "rowhead";
      label.setAttribute("role", "rowheader");
      label.textContent = `blob ${b}`;
      row.append(label);
      const cells: HTMLElement[] = [];
      for (let c = 0; c < COLUMNS; c++) {
        const cell = document.createElement("div");
        cell.setAttribute("role", "gridcell");
        cell.dataset.blob = String(b);
        cell.dataset.column = String(c);
        cell.dataset.state = "unsampled";
        cell.dataset.light = "";
        cell.tabIndex = b === 0 && c === 0 ? 0 : -1;
        cell.setAttribute("aria-label", `blob ${b} column ${c}: not sampled`);
        cells.push(cell);
        row.append(cell);
      }
      this.#cells.push(cells);
      root.append(row);
    }
    const show = (b: number, c: number) => {
      this.#info.textContent = describe.describe(b, c);
    };
    root.addEventListener("focusin", (e) => {
      const el = e.target as HTMLElement;
      if (el.dataset.blob === undefined) return;
      this.#focus = [Number(el.dataset.blob), Number(el.dataset.column)];
      show(...this.#focus);
    });
    root.addEventListener("click", (e) => {
      const el = e.target as HTMLElement;
      if (el.dataset.blob !== undefined) this.focus(Number(el.dataset.blob), Number(el.dataset.column));
    });
    root.addEventListener("keydown", (e) => {
      const [b, c] = this.#focus;
      const moves: Record<string, [number, number]> = {
        ArrowLeft: [b, c - 1],
        ArrowRight: [b, c + 1],
        ArrowUp: [b - 1, c],
        ArrowDown: [b + 1, c],
        Home: [b, 0],
        End: [b, COLUMNS - 1],
        PageUp: [0, c],
        PageDown: [blobs - 1, c],
      };
      const to = moves[e.key];
      if (to === undefined) return;
      e.preventDefault();
      this.focus(Math.max(0, Math.min(blobs - 1, to[0])), Math.max(0, Math.min(COLUMNS - 1, to[1])));
    });
  }

  focus(blob: number, column: number): void {
    const [b, c] = this.#focus;
    const from = this.#cells[b]?.[c];
    const to = this.#cells[blob]?.[column];
    if (to === undefined) return;
    if (from) from.tabIndex = -1;
    to.tabIndex = 0;
    to.focus();
    this.#focus = [blob, column];
  }

  set(blob: number, column: number, state: CellState | "unsampled"): void {
    const cell = this.#cells[blob]?.[column];
    if (cell === undefined) return;
    cell.dataset.state = state;
    this.#label(cell);
  }

  /** The light node's verdict on a whole column (every blob's cell in it). */
  setLight(column: number, state: string): void {
    for (const row of this.#cells) {
      const cell = row[column];
      if (cell === undefined) continue;
      cell.dataset.light = state;
      this.#label(cell);
    }
  }

  clearLight(): void {
    for (let c = 0; c < COLUMNS; c++) this.setLight(c, "");
  }

  state(blob: number, column: number): string {
    return this.#cells[blob]?.[column]?.dataset.state ?? "unsampled";
  }

  #label(cell: HTMLElement): void {
    const light = cell.dataset.light ? `; light node: ${cell.dataset.light}` : "";
    cell.setAttribute(
      "aria-label",
      `blob ${cell.dataset.blob} column ${cell.dataset.column}: ${cell.dataset.state}${light}`,
    );
  }

  get element(): HTMLElement {
    return this.#root;
  }
}
