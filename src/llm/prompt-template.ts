/**
 * `{{ path.to.value }}` placeholders, filled from the call's context. Unknown paths
 * become empty text: the prompt must never show the model a raw placeholder.
 */
const PLACEHOLDER = /\{\{\s*([\w.-]+)\s*\}\}/g;

export function renderTemplate(template: string, context: Record<string, unknown>): string {
  return template.replace(PLACEHOLDER, (_match, path: string) => stringify(lookup(context, path)));
}

function lookup(context: Record<string, unknown>, path: string): unknown {
  let value: unknown = context;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function stringify(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return '';
    case 'object':
      return value === null ? '' : JSON.stringify(value);
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'symbol':
    case 'function':
      return value.toString();
  }
}
