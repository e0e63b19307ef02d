#!/usr/bin/env node
// A protoc plugin that writes a Markdown reference of each proto file: services and their
// methods, messages and their fields, enums and their values, each with the comments the proto
// carries. `pnpm docs:proto` runs it through `buf generate --template scripts/buf.gen.docs.yaml`.
import {
  create,
  createFileRegistry,
  type DescEnum,
  type DescField,
  type DescFile,
  type DescMessage,
  type DescMethod,
  type DescService,
  ScalarType,
} from "@bufbuild/protobuf";
import {
  CodeGeneratorResponse_Feature,
  CodeGeneratorResponseSchema,
  FileDescriptorSetSchema,
  MethodOptions_IdempotencyLevel,
} from "@bufbuild/protobuf/wkt";
import { getComments, getSyntaxComments, type Plugin, runNodeJs } from "@bufbuild/protoplugin";

type Described = DescMessage | DescEnum | DescService | DescMethod | DescField | DescEnum["values"][number];

/** The comment above a declaration (or after it, when there is none above) as Markdown text. */
function comment(desc: Described): string {
  const { leading, trailing } = getComments(desc);
  return dedent(leading ?? trailing ?? "");
}

/** Proto comments keep the space after `//`; Markdown wants the text itself. */
function dedent(text: string): string {
  return text
    .split("\n")
    .map((line) => line.replace(/^ /, "").trimEnd())
    .join("\n")
    .trim();
}

/** A comment squeezed into one table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
}

function anchor(typeName: string): string {
  return typeName.toLowerCase().replace(/[^a-z0-9]+/g, "-");
}

/** Links types of this file to their section, well-known types to their documentation. */
function typeLink(desc: DescMessage | DescEnum, file: DescFile): string {
  if (desc.file === file) return `[${desc.name}](#${anchor(desc.typeName)})`;
  if (desc.typeName.startsWith("google.protobuf.")) {
    const name = desc.typeName.slice("google.protobuf.".length).toLowerCase();
    return `[${desc.typeName}](https://protobuf.dev/reference/protobuf/google.protobuf/#${name})`;
  }
  return `\`${desc.typeName}\``;
}

function scalarName(scalar: ScalarType): string {
  return (ScalarType[scalar] ?? String(scalar)).toLowerCase();
}

function fieldType(field: DescField, file: DescFile): string {
  switch (field.fieldKind) {
    case "scalar":
      return `\`${scalarName(field.scalar)}\``;
    case "enum":
      return typeLink(field.enum, file);
    case "message":
      return typeLink(field.message, file);
    case "list": {
      const item =
        field.listKind === "scalar"
          ? `\`${scalarName(field.scalar)}\``
          : typeLink(field.listKind === "enum" ? field.enum : field.message, file);
      return `repeated ${item}`;
    }
    case "map": {
      const value =
        field.mapKind === "scalar"
          ? `\`${scalarName(field.scalar)}\``
          : typeLink(field.mapKind === "enum" ? field.enum : field.message, file);
      return `map<\`${scalarName(field.mapKey)}\`, ${value}>`;
    }
  }
}

function fieldNotes(field: DescField): string {
  const notes: string[] = [];
  if (field.oneof && !field.proto.proto3Optional) notes.push(`one of \`${field.oneof.name}\``);
  if (field.proto.proto3Optional) notes.push("optional");
  if (field.deprecated) notes.push("deprecated");
  return notes.length > 0 ? `*${notes.join(", ")}.* ` : "";
}

function methodLine(method: DescMethod, file: DescFile): string {
  const streams = (kind: boolean, type: DescMessage) => `${kind ? "stream " : ""}${typeLink(type, file)}`;
  const clientStreams = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
  const serverStreams = method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming";
  const notes: string[] = [];
  if (method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) notes.push("no side effects");
  if (method.idempotency === MethodOptions_IdempotencyLevel.IDEMPOTENT) notes.push("idempotent");
  if (method.deprecated) notes.push("deprecated");
  const noted = notes.length > 0 ? `*${notes.join(", ")}.* ` : "";
  return `| \`${method.name}\` | ${streams(clientStreams, method.input)} | ${streams(serverStreams, method.output)} | ${noted}${cell(comment(method))} |`;
}

function serviceSection(service: DescService, file: DescFile): string[] {
  return [
    `### ${service.name}`,
    "",
    `<a id="${anchor(service.typeName)}"></a>`,
    "",
    comment(service),
    "",
    "| Method | Request | Response | Description |",
    "| ------ | ------- | -------- | ----------- |",
    ...service.methods.map((method) => methodLine(method, file)),
    "",
  ];
}

function messageSection(message: DescMessage, file: DescFile): string[] {
  const lines = [`### ${message.typeName.slice(file.proto.package.length + 1)}`, ""];
  lines.push(`<a id="${anchor(message.typeName)}"></a>`, "", comment(message), "");
  if (message.fields.length === 0) {
    lines.push("No fields.", "");
  } else {
    lines.push("| Field | Number | Type | Description |", "| ----- | ------ | ---- | ----------- |");
    for (const field of message.fields) {
      lines.push(
        `| \`${field.name}\` | ${field.number} | ${fieldType(field, file)} | ${fieldNotes(field)}${cell(comment(field))} |`,
      );
    }
    lines.push("");
  }
  for (const nested of message.nestedMessages) lines.push(...messageSection(nested, file));
  for (const nested of message.nestedEnums) lines.push(...enumSection(nested, file));
  return lines;
}

function enumSection(enumeration: DescEnum, file: DescFile): string[] {
  return [
    `### ${enumeration.typeName.slice(file.proto.package.length + 1)}`,
    "",
    `<a id="${anchor(enumeration.typeName)}"></a>`,
    "",
    comment(enumeration),
    "",
    "| Value | Number | Description |",
    "| ----- | ------ | ----------- |",
    ...enumeration.values.map((value) => `| \`${value.name}\` | ${value.number} | ${cell(comment(value))} |`),
    "",
  ];
}

function fileReference(file: DescFile): string {
  const header = dedent(getSyntaxComments(file).leading ?? "");
  const lines = [
    `# ${file.proto.package}`,
    "",
    `<!-- Generated from ${file.proto.name} by scripts/protoc-gen-api-docs.ts: run \`pnpm docs:proto\`, do not edit. -->`,
    "",
    header,
    "",
    "## Services",
    "",
  ];
  for (const service of file.services) lines.push(...serviceSection(service, file));
  lines.push("## Messages", "");
  for (const message of file.messages) lines.push(...messageSection(message, file));
  lines.push("## Enums", "");
  for (const enumeration of file.enums) lines.push(...enumSection(enumeration, file));
  return `${lines
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trimEnd()}\n`;
}

const plugin: Plugin = {
  name: "protoc-gen-api-docs",
  version: "v1",
  run(request) {
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: request.protoFile }));
    const files = request.fileToGenerate.map((name) => {
      const file = registry.getFile(name);
      if (!file) throw new Error(`protoc-gen-api-docs: ${name} is not in the request`);
      return { name: name.replace(/\.proto$/, ".md"), content: fileReference(file) };
    });
    return create(CodeGeneratorResponseSchema, {
      supportedFeatures: BigInt(CodeGeneratorResponse_Feature.PROTO3_OPTIONAL),
      file: files,
    });
  },
};

runNodeJs(plugin);
