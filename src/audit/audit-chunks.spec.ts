import { splitIntoChunks } from './audit-chunks';

const rows = (...sizes: number[]) => sizes.map((bytes, i) => ({ row: i, bytes }));
const shape = (chunks: Array<Array<{ row: number }>>) => chunks.map((chunk) => chunk.map((q) => q.row));

describe('splitIntoChunks', () => {
  it('keeps small rows together up to the row bound', () => {
    expect(shape(splitIntoChunks(rows(1, 1, 1, 1, 1), 2, 1_000))).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('starts a new chunk before the byte bound would be passed', () => {
    expect(shape(splitIntoChunks(rows(400, 400, 300, 900, 50), 100, 1_000))).toEqual([[0, 1], [2], [3, 4]]);
  });

  it('puts a row larger than the byte bound alone, without dropping it', () => {
    expect(shape(splitIntoChunks(rows(10, 5_000, 10), 100, 1_000))).toEqual([[0], [1], [2]]);
  });

  it('keeps every row once and in order, each chunk within both bounds unless it holds one row', () => {
    const sizes = Array.from({ length: 500 }, (_, i) => ((i * 7919) % 997) * 3);
    const chunks = splitIntoChunks(rows(...sizes), 37, 2_000);

    expect(chunks.flat().map((q) => q.row)).toEqual(sizes.map((_, i) => i));
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(37);
      if (chunk.length > 1) expect(chunk.reduce((sum, q) => sum + q.bytes, 0)).toBeLessThanOrEqual(2_000);
    }
  });

  it('returns no chunk for no rows', () => {
    expect(splitIntoChunks([], 10, 10)).toEqual([]);
  });
});
