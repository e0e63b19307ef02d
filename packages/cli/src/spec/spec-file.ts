import { readFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import { create, type DescMessage, fromJson, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import {
  type CreateVClusterRequest,
  CreateVClusterRequestSchema,
  type VClusterSpec,
  VClusterSpecSchema,
} from "@open-vcluster/api";
import { parse } from "yaml";
import { UsageError } from "../errors.js";

async function readStream(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads a YAML or JSON document (JSON is YAML) from a file, or from stdin for "-". */
export async function readDocument(file: string, stdin: Readable | undefined): Promise<JsonObject> {
  let text: string;
  try {
    if (file === "-") {
      if (!stdin) throw new Error("no standard input");
      text = await readStream(stdin);
    } else {
      text = await readFile(file, "utf8");
    }
  } catch (error) {
    throw new UsageError(`-f ${file}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new UsageError(`-f ${file}: ${(error as Error).message}`);
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new UsageError(`-f ${file}: expected a mapping (a CreateVClusterRequest or a VClusterSpec)`);
  }
  return document as JsonObject;
}

function hasFieldOf(message: DescMessage, key: string): boolean {
  return message.fields.some((field) => field.jsonName === key || field.name === key);
}

/** protobuf-es names the message and field in its errors; the file name completes the picture. */
function decode<Desc extends DescMessage>(schema: Desc, document: JsonValue, file: string) {
  try {
    return fromJson(schema, document);
  } catch (error) {
    throw new UsageError(`-f ${file}: ${(error as Error).message}`);
  }
}

/**
 * A document is a whole CreateVClusterRequest (name, namespace, spec, labels…) or just a
 * VClusterSpec; their field names do not overlap, so the keys tell them apart.
 */
export function createRequestFromDocument(document: JsonObject, file: string): CreateVClusterRequest {
  const keys = Object.keys(document);
  const isRequest = keys.some((key) => hasFieldOf(CreateVClusterRequestSchema, key));
  if (isRequest) return decode(CreateVClusterRequestSchema, document, file);
  const spec: VClusterSpec = decode(VClusterSpecSchema, document, file);
  return create(CreateVClusterRequestSchema, { spec });
}

/**
 * Update-mask paths of the fields a document sets, descending into singular messages as the
 * server does; lists and maps are replaced whole. Explicit paths let a file turn a flag off.
 */
export function maskPaths(message: DescMessage, document: JsonValue, prefix: string): string[] {
  const paths: string[] = [];
  for (const [key, value] of Object.entries(document as Record<string, JsonValue>)) {
    const field = message.fields.find((f) => f.jsonName === key || f.name === key);
    if (!field) continue;
    const path = `${prefix}.${field.name}`;
    const nested =
      field.fieldKind === "message" && value !== null && typeof value === "object" && !Array.isArray(value)
        ? maskPaths(field.message, value, path)
        : [];
    paths.push(...(nested.length > 0 ? nested : [path]));
  }
  return paths;
}
