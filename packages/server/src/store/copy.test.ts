import { clone, create, type DescMessage, equals, ScalarType } from "@bufbuild/protobuf";
import { type VCluster, VClusterSchema } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { copyVCluster } from "./copy.js";
import { freezeDeep } from "./frozen.js";

/** Every field of the schema set (to a value that is not its zero), nested messages too. */
function filled(desc: DescMessage, depth = 0): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  for (const field of desc.fields) {
    const sample = (): unknown => {
      switch (field.fieldKind) {
        case "scalar":
          return scalarSample(field.scalar);
        case "enum":
          return field.enum.values.at(-1)?.number ?? 1;
        case "message":
          return depth < 4 ? create(field.message, filled(field.message, depth + 1)) : undefined;
        case "list":
          if (field.listKind === "message") return [create(field.message, filled(field.message, depth + 1))];
          if (field.listKind === "enum") return [field.enum.values.at(-1)?.number ?? 1];
          return [scalarSample(field.scalar)];
        case "map": {
          const value =
            field.mapKind === "message"
              ? create(field.message, filled(field.message, depth + 1))
              : field.mapKind === "enum"
                ? (field.enum.values.at(-1)?.number ?? 1)
                : scalarSample(field.scalar);
          return { "a/b": value };
        }
      }
    };
    init[field.localName] = sample();
  }
  return init;
}

function scalarSample(scalar: ScalarType): unknown {
  if (scalar === ScalarType.BOOL) return true;
  if (scalar === ScalarType.STRING) return "text";
  if (scalar === ScalarType.BYTES) return new Uint8Array([1, 2, 3]);
  const longs = [ScalarType.INT64, ScalarType.UINT64, ScalarType.FIXED64, ScalarType.SFIXED64, ScalarType.SINT64];
  return longs.includes(scalar) ? 7n : 7;
}

describe("copyVCluster", () => {
  const full = (): VCluster => create(VClusterSchema, filled(VClusterSchema));

  it("copies every field, nested messages, lists and maps, as clone does", () => {
    const original = full();
    expect(original.status?.conditions.length).toBeGreaterThan(0);
    const copy = copyVCluster(original);
    expect(equals(VClusterSchema, copy, original)).toBe(true);
    expect(copy).toEqual(clone(VClusterSchema, original));
  });

  it("shares nothing with the original, and copies a frozen one into one that can change", () => {
    const original = freezeDeep(full());
    const copy = copyVCluster(original);
    copy.labels.extra = "x";
    if (copy.status) copy.status.phase = 0;
    copy.status?.conditions.push(copy.status.conditions[0] as never);
    expect(original.labels.extra).toBeUndefined();
    expect(equals(VClusterSchema, original, full())).toBe(true);
  });

  it("keeps a map key named __proto__ a key", () => {
    const original = create(VClusterSchema, { name: "a" });
    Object.defineProperty(original.labels, "__proto__", { value: "v", enumerable: true, writable: true });
    const copy = copyVCluster(original);
    expect(Object.getPrototypeOf(copy.labels)).toBe(Object.prototype);
    expect(Object.keys(copy.labels)).toEqual(["__proto__"]);
    expect(equals(VClusterSchema, copy, original)).toBe(true);
  });

  it("falls back to clone for anything but plain data", () => {
    const original = full();
    const labels = Object.assign(Object.create({ inherited: "yes" }) as Record<string, string>, { own: "1" });
    original.labels = labels;
    const copy = copyVCluster(original);
    expect(copy.labels).toEqual({ own: "1" });
    expect(equals(VClusterSchema, copy, original)).toBe(true);
  });
});
