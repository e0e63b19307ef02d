import { type DescMessage, isFieldSet, type Message } from "@bufbuild/protobuf";

/**
 * The binary encoding of a message whose known fields are all unset, written from its unknown
 * fields alone: byte for byte what protobuf-es `toBinary` writes for it (it writes unknown
 * fields verbatim, after the known ones), without its walk of the schema. Undefined for any
 * other message. A response that only carries an object already encoded (GetVCluster's, see
 * service/encoded-once.ts) is such a message.
 */
export function encodedFromUnknown(schema: DescMessage, message: Message): Uint8Array | undefined {
  const unknown = message.$unknown;
  if (unknown === undefined || unknown.length === 0) return undefined;
  for (const field of schema.fields) if (isFieldSet(message, field)) return undefined;
  let size = 0;
  for (const { no, wireType, data } of unknown) size += varintSize(tagOf(no, wireType)) + data.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const { no, wireType, data } of unknown) {
    at = writeVarint(out, at, tagOf(no, wireType));
    out.set(data, at);
    at += data.length;
  }
  return out;
}

function tagOf(no: number, wireType: number): number {
  // Field numbers stop at 2^29 - 1, so the tag fits 32 bits unsigned.
  return ((no << 3) | wireType) >>> 0;
}

function varintSize(value: number): number {
  let size = 1;
  while (value > 0x7f) {
    value >>>= 7;
    size += 1;
  }
  return size;
}

function writeVarint(out: Uint8Array, at: number, value: number): number {
  while (value > 0x7f) {
    out[at++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[at++] = value;
  return at;
}
