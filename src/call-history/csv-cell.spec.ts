import { escapeCsvFormula } from './csv-cell';

describe('escapeCsvFormula', () => {
  it.each([
    ['=HYPERLINK("http://evil.example","x")', `'=HYPERLINK("http://evil.example","x")`],
    ["+cmd|' /C calc'!A0", `'+cmd|' /C calc'!A0`],
    ["-2+3+cmd|' /C calc'!A0", `'-2+3+cmd|' /C calc'!A0`],
    ["@SUM(1+1)*cmd|' /C calc'!A0", `'@SUM(1+1)*cmd|' /C calc'!A0`],
    ['\t=1+1', `'\t=1+1`],
    ['\r=1+1', `'\r=1+1`],
    ['+1555=0100', `'+1555=0100`],
    ['-', `'-`],
  ])('prefixes %j with a single quote', (value, escaped) => {
    expect(escapeCsvFormula(value)).toBe(escaped);
  });

  it.each([
    '+15550100',
    '-12',
    '-1.5',
    'What are your opening hours?',
    'a=b',
    '',
    "'=already quoted",
    ' =1',
    '{"note":"=1"}',
  ])('leaves %j as it is', (value) => {
    expect(escapeCsvFormula(value)).toBe(value);
  });
});
