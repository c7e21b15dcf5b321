import { OTHER_LABEL_VALUE, TopLabelValues } from './top-label-values';

describe('TopLabelValues', () => {
  const times = (n: number, fn: (i: number) => void) => Array.from({ length: n }, (_, i) => fn(i));

  it('gives the first values their own label and counts the rest as other', () => {
    const labels = new TopLabelValues(50, () => undefined);
    const recorded = new Set<string>();
    times(3_000, (i) => recorded.add(labels.use(`agent-${i}`)));

    expect(recorded.size).toBe(51);
    expect(recorded.has(OTHER_LABEL_VALUE)).toBe(true);
    expect(labels.values).toHaveLength(50);
    expect(labels.use('agent-7')).toBe('agent-7');
    expect(labels.use('agent-2999')).toBe(OTHER_LABEL_VALUE);
  });

  it('moves a much busier value into the top when rebalanced, removing the series it replaces', () => {
    const dropped: string[] = [];
    const labels = new TopLabelValues(3, (value) => dropped.push(value));
    times(3, (i) => times(i + 2, () => labels.use(`early-${i}`))); // 2, 3 and 4 uses
    times(20, () => labels.use('busy'));
    expect(labels.use('busy')).toBe(OTHER_LABEL_VALUE);

    labels.rebalance();
    expect(dropped).toEqual(['early-0']);
    expect(labels.values.sort()).toEqual(['busy', 'early-1', 'early-2']);
    expect(labels.use('busy')).toBe('busy');
    expect(labels.use('early-0')).toBe(OTHER_LABEL_VALUE);
  });

  it('does not swap values of about the same use', () => {
    const dropped: string[] = [];
    const labels = new TopLabelValues(1, (value) => dropped.push(value));
    times(10, () => labels.use('first'));
    times(15, () => labels.use('second'));
    labels.rebalance();
    expect(dropped).toEqual([]);
    times(6, () => labels.use('second'));
    labels.rebalance();
    expect(dropped).toEqual(['first']);
    expect(labels.values).toEqual(['second']);
  });

  it('keeps busy values through a flood of one-off values, remembering a bounded number of them', () => {
    const dropped: string[] = [];
    const labels = new TopLabelValues(2, (value) => dropped.push(value), 10);
    times(5, () => labels.use('a'));
    times(5, () => labels.use('b'));
    times(3, () => labels.use('c'));
    times(3_000, (i) => labels.use(`once-${i}`));
    labels.rebalance();
    expect(dropped).toEqual([]);
    expect(labels.values).toEqual(['a', 'b']);

    // 'c' was forgotten among the one-off values: it starts counting again.
    times(10, () => labels.use('c'));
    labels.rebalance();
    expect(dropped).toEqual([]);
    labels.use('c');
    labels.rebalance();
    expect(dropped).toEqual(['a']);
    expect(labels.values.sort()).toEqual(['b', 'c']);
  });
});
