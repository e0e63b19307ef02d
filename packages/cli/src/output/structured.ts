import { type DescMessage, type JsonValue, type MessageShape, toJson } from "@bufbuild/protobuf";
import { stringify } from "yaml";

/** The proto JSON form: the same shape `-f` accepts, so output can be edited and fed back. */
export function messageJson<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): JsonValue {
  return toJson(schema, message);
}

export function renderJson(value: JsonValue): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** One compact JSON document per line, for streams that `jq` or a log shipper read as they arrive. */
export function renderJsonLine(value: JsonValue): string {
  return `${JSON.stringify(value)}\n`;
}

export function renderYaml(value: JsonValue): string {
  return stringify(value);
}
