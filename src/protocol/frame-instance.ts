import { getMetadataStorage, ValidateNested } from 'class-validator';

type FrameClass = new () => object;
/** A DTO class as a key: the decorator sees it only as `target.constructor`. */
type DtoClass = abstract new (...args: never[]) => object;

const nestedTypes = new Map<DtoClass, Map<string, () => FrameClass>>();
const declaredFieldsCache = new Map<DtoClass, string[]>();

/** A field holding a frame object of its own (or an array of them), checked against `type`. */
export function NestedFrame(type: () => FrameClass): PropertyDecorator {
  return (target, key) => {
    ValidateNested()(target, key);
    const owner = target.constructor as DtoClass;
    if (!nestedTypes.has(owner)) nestedTypes.set(owner, new Map());
    nestedTypes.get(owner)!.set(String(key), type);
  };
}

/**
 * The declared fields of a parsed frame on an instance of `type`, to run the DTOs with
 * class-validator (the parser checks frames with frame-guards.ts; frame-guards.spec.ts holds
 * the two to the same answers). class-validator finds a class's rules through
 * `object.constructor`, so a field of that name must not come along. Values are taken as JSON.parse made them and never walked:
 * class-transformer did walk them, dropping keys named like Object.prototype members
 * (toString, __proto__, ...) and throwing on a key named `constructor`.
 */
export function toFrameInstance<T extends object>(type: new () => T, plain: Record<string, unknown>): T {
  const instance = Object.create(type.prototype as T) as Record<string, unknown>;
  const nested = nestedTypes.get(type);
  for (const field of declaredFields(type)) {
    if (!Object.hasOwn(plain, field)) continue;
    const nestedType = nested?.get(field)?.();
    instance[field] = nestedType ? toNested(nestedType, plain[field]) : plain[field];
  }
  return instance as T;
}

/** Anything but an object (or an array of objects) is kept as is, for the validator to refuse. */
function toNested(type: FrameClass, value: unknown): unknown {
  if (Array.isArray(value)) {
    const items: unknown[] = value;
    return items.map((item) => (isPlainObject(item) ? toFrameInstance(type, item) : item));
  }
  return isPlainObject(value) ? toFrameInstance(type, value) : value;
}

function declaredFields(type: DtoClass): string[] {
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
