// Which rows of a long list to render: the visible ones and a few around them (the rest are
// an empty space of the same height), so a playlist of 1,000 tracks costs a screenful of rows.

export interface RowRange {
  first: number;
  /** One past the last row to render. */
  end: number;
}

export function visibleRows(
  scrollTop: number,
  viewport: number,
  rowHeight: number,
  count: number,
  overscan = 8,
): RowRange {
  if (count <= 0 || rowHeight <= 0) return { first: 0, end: 0 };
  const top = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const bottom = Math.ceil((Math.max(0, scrollTop) + Math.max(viewport, rowHeight)) / rowHeight) + overscan;
  const end = Math.min(count, Math.max(bottom, top + 1));
  return { first: Math.min(top, end - 1), end };
}
