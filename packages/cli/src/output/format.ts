import { InvalidArgumentError, Option } from "commander";

/** The fixed formats; `jsonpath=…` and `custom-columns=…` carry their template after the `=`. */
export const OUTPUT_FORMATS = ["table", "wide", "json", "yaml", "name"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number] | `jsonpath=${string}` | `custom-columns=${string}`;

const TEMPLATED = ["jsonpath", "custom-columns"] as const;

export function parseOutputFormat(text: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(text)) return text as OutputFormat;
  const eq = text.indexOf("=");
  const kind = eq < 0 ? text : text.slice(0, eq);
  if ((TEMPLATED as readonly string[]).includes(kind)) {
    if (eq < 0 || text.slice(eq + 1).trim() === "") {
      throw new InvalidArgumentError(`${kind} needs a template, e.g. ${kind}=${example(kind)}`);
    }
    return text as OutputFormat;
  }
  throw new InvalidArgumentError(
    `unknown output format "${text}"; one of ${OUTPUT_FORMATS.join(", ")}, jsonpath=TEMPLATE, custom-columns=SPEC`,
  );
}

function example(kind: string): string {
  return kind === "jsonpath" ? "'{.status.phase}'" : "NAME:.name,PHASE:.status.phase";
}

export function outputOption(): Option {
  const option = new Option(
    "-o, --output <format>",
    "output format; jsonpath=TEMPLATE and custom-columns=HEADER:PATH,… take a template",
  )
    .argParser(parseOutputFormat)
    .default("table");
  // What shell completion offers; the parser above (not commander's choice check) validates.
  option.argChoices = [...OUTPUT_FORMATS, ...TEMPLATED.map((kind) => `${kind}=`)];
  return option;
}

/** Formats that show the API's own JSON form (or a template over it) rather than a summary for people. */
export function isStructured(format: OutputFormat): format is "json" | "yaml" {
  return format === "json" || format === "yaml";
}

/** Table and wide are for people; every other format is for programs and prints objects, not prose. */
export function isHumanReadable(format: OutputFormat): format is "table" | "wide" {
  return format === "table" || format === "wide";
}
