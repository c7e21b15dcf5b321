/** What a spreadsheet takes for the start of a formula (OWASP CSV injection: = + - @, tab, carriage return). */
const FORMULA_START = /^[=+\-@\t\r]/;
/** A signed number alone (an E.164 phone number) runs nothing and stays usable as it is. */
const SIGNED_NUMBER = /^[+-]?\d+(\.\d+)?$/;

/**
 * A text cell a spreadsheet will show as text: one that would start a formula gets a
 * leading single quote. Caller-controlled text (agent ids, what the caller said,
 * metadata keys) reaches the export, and a formula there runs on the reader's machine.
 */
export function escapeCsvFormula(value: string): string {
  return FORMULA_START.test(value) && !SIGNED_NUMBER.test(value) ? `'${value}` : value;
}
