import { type Message, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { HandlerContext } from "@connectrpc/connect";
import { type VCluster, VClusterSchema } from "@open-vcluster/api";

// A frozen vcluster (a store peek) does not change, so its encoding does not either: it is
// made once and shared by every response that carries that object, as long as the object lives.
const encodings = new WeakMap<Readonly<VCluster>, Uint8Array>();

/** A frozen vcluster in protobuf binary, as the bytes of a length-delimited field. */
export function encodedOnce(vcluster: Readonly<VCluster>): Uint8Array {
  let encoded = encodings.get(vcluster);
  if (encoded === undefined) {
    encoded = new BinaryWriter().bytes(toBinary(VClusterSchema, vcluster)).finish();
    if (Object.isFrozen(vcluster)) encodings.set(vcluster, encoded);
  }
  return encoded;
}

/**
 * `message` carrying `vclusters` in field `field` (singular or repeated) as already-encoded
 * bytes: protobuf-es writes unknown fields out verbatim, after the known ones, and a decoder
 * reads a field wherever it stands, so the answer decodes to exactly the message that holds the
 * objects themselves (for a singular field it is byte for byte the same). JSON drops unknown
 * fields: only for calls whose codec is binary.
 */
export function withEncodedField<T extends Message>(
  message: T,
  field: number,
  vclusters: readonly Readonly<VCluster>[],
): T {
  message.$unknown = vclusters.map((vcluster) => ({
    no: field,
    wireType: WireType.LengthDelimited,
    data: encodedOnce(vcluster),
  }));
  return message;
}

/** Whether the call's codec is protobuf binary (gRPC, gRPC-Web, Connect +proto), not JSON. */
export function binaryCodec(ctx: HandlerContext): boolean {
  return !/[+/]json\b/i.test(ctx.requestHeader.get("content-type") ?? "");
}
