import { getMetadataStorage, ValidateNested } from 'class-validator';

type FrameClass = new () => object;

const nestedTypes = new Map<Function, Map<string, () => FrameClass>>();
const declaredFieldsCache = new Map<Function, string[]>();

/** A field holding a frame object of its own (or an array of them), checked against `type`. */
export function NestedFrame(type: () => FrameClass): PropertyDecorator {
  return (target, key) => {
    ValidateNested()(target, key);
    const owner = target.constructor;
    if (!nestedTypes.has(owner)) nestedTypes.set(owner, new Map());
    nestedTypes.get(owner)!.set(String(key), type);
  };
}

/**
 * The declared fields of a parsed frame on an instance of `type`, for class-validator
 * (which finds a class's rules through `object.constructor`, so a field of that name
 * must not come along). Values are taken as JSON.parse made them and never walked:
 * class-transformer did walk them, dropping keys named like Object.prototype members
 * (toString, __proto__, ...) and throwing on a key named `constructor`.
 */
export function toFrameInstance<T extends object>(type: new () => T, plain: Record<string, unknown>): T {
  const instance = Object.create(type.prototype) as Record<string, unknown>;
  const nested = nestedTypes.get(type);
  for (const field of declaredFields(type)) {
    if (!Object.hasOwn(plain, field)) continue;
    const nestedType = nested?.get(field)?.();
    instance[field] = nestedType ? toNested(nestedType, plain[field]) : plain[field];
  }
  return instance as T;
}

/**
 * A validated frame as the handlers get it: every field as received, fields outside the
 * protocol included (they are recorded, e.g. in a stored transcript), on instances of
 * the frame classes.
 */
export function adoptFrame<T extends object>(type: new () => T, plain: Record<string, unknown>): T {
  const frame = Object.create(type.prototype) as T;
  const nested = nestedTypes.get(type);
  for (const [key, value] of Object.entries(plain)) {
    const nestedType = nested?.get(key)?.();
    // defineProperty, not assignment: a "__proto__" key stays a plain field.
    Object.defineProperty(frame, key, {
      value: nestedType ? toNested(nestedType, value, adoptFrame) : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return frame;
}

/** Anything but an object (or an array of objects) is kept as is, for the validator to refuse. */
function toNested(type: FrameClass, value: unknown, convert: typeof toFrameInstance = toFrameInstance): unknown {
  if (Array.isArray(value)) return value.map((item) => (isPlainObject(item) ? convert(type, item) : item));
  return isPlainObject(value) ? convert(type, value) : value;
}

function declaredFields(type: Function): string[] {
  let fields = declaredFieldsCache.get(type);
  if (!fields) {
    const metadata = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false);
    fields = [...new Set(metadata.map((m) => m.propertyName))];
    declaredFieldsCache.set(type, fields);
  }
  return fields;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
