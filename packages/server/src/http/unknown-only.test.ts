import { create, toBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import {
  GetVClusterResponseSchema,
  ListVClustersResponseSchema,
  VClusterSchema,
  WatchEventType,
  WatchVClusterResponseSchema,
} from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { encodedOnce, withEncodedField } from "../service/encoded-once.js";
import { freezeDeep } from "../store/frozen.js";
import { encodedFromUnknown } from "./unknown-only.js";

const vcluster = (name: string) =>
  freezeDeep(
    create(VClusterSchema, {
      id: `vc-${name}`,
      name,
      namespace: "team-a",
      labels: { app: name },
      annotations: { "note/long": "x".repeat(300) },
    }),
  );

describe("encodedFromUnknown", () => {
  it("writes exactly what toBinary writes for a message that only carries encoded objects", () => {
    const single = withEncodedField(create(GetVClusterResponseSchema), 1, [vcluster("one")]);
    expect(encodedFromUnknown(GetVClusterResponseSchema, single)).toEqual(toBinary(GetVClusterResponseSchema, single));
    const many = withEncodedField(create(ListVClustersResponseSchema), 1, [vcluster("a"), vcluster("b")]);
    expect(encodedFromUnknown(ListVClustersResponseSchema, many)).toEqual(toBinary(ListVClustersResponseSchema, many));
    // Tags of several bytes (large field numbers) and other wire types.
    const odd = create(GetVClusterResponseSchema);
    odd.$unknown = [
      { no: 536_870_911, wireType: WireType.LengthDelimited, data: encodedOnce(vcluster("far")) },
      { no: 20, wireType: WireType.Varint, data: new Uint8Array([0x96, 0x01]) },
    ];
    expect(encodedFromUnknown(GetVClusterResponseSchema, odd)).toEqual(toBinary(GetVClusterResponseSchema, odd));
  });

  it("declines a message with a known field set, or with nothing unknown", () => {
    const typed = withEncodedField(create(WatchVClusterResponseSchema, { type: WatchEventType.ADDED }), 2, [
      vcluster("w"),
    ]);
    expect(encodedFromUnknown(WatchVClusterResponseSchema, typed)).toBeUndefined();
    const paged = withEncodedField(create(ListVClustersResponseSchema, { nextPageToken: "t" }), 1, [vcluster("p")]);
    expect(encodedFromUnknown(ListVClustersResponseSchema, paged)).toBeUndefined();
    expect(encodedFromUnknown(GetVClusterResponseSchema, create(GetVClusterResponseSchema))).toBeUndefined();
    const plain = create(GetVClusterResponseSchema, { vcluster: create(VClusterSchema, { name: "p" }) });
    expect(encodedFromUnknown(GetVClusterResponseSchema, plain)).toBeUndefined();
  });
});
