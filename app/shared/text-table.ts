/**
 * Rows as aligned plain-text columns under a header, for terminals: each column as wide as its
 * widest cell, two spaces between columns, no trailing spaces. Cells are one line each.
 */
export function textTable(header: string[], rows: string[][]): string {
  const cells = [header, ...rows].map((row) => row.map(oneLine));
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ')).join('\n');
}

/** Line breaks and tabs would break the columns; they are shown as spaces. */
const oneLine = (cell: string) => cell.replace(/[\r\n\t]+/g, ' ');
