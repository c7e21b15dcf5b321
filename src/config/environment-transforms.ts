/** Environment values arrive as text: these turn them into what the validators check. */

export const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : Number(value);

export const blankAsUnset = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

/** true/1/yes and false/0/no, any case; anything else is left for IsBoolean to refuse. */
export const toBool = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? /^(true|1|yes)$/i.test(value)
      ? true
      : /^(false|0|no)$/i.test(value)
        ? false
        : value
    : value;
