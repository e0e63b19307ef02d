import { Option } from "commander";

export const OUTPUT_FORMATS = ["table", "wide", "json", "yaml"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function outputOption(): Option {
  return new Option("-o, --output <format>", "output format").choices(OUTPUT_FORMATS).default("table");
}

export function isStructured(format: OutputFormat): format is "json" | "yaml" {
  return format === "json" || format === "yaml";
}
