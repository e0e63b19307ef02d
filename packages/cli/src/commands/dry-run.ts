import { type DescMessage, type MessageShape, toJson } from "@bufbuild/protobuf";
import type { CliIo } from "../io.js";
import { isHumanReadable, type OutputFormat } from "../output/format.js";
import { renderJson, renderYaml } from "../output/structured.js";

/**
 * Reports a mutation that --dry-run did not send: a line for people (stderr note that nothing
 * was changed), or the request in its proto JSON form for `-o json|yaml`, ready for `-f`.
 */
export function reportDryRun<Desc extends DescMessage>(
  io: CliIo,
  format: OutputFormat,
  summary: string,
  schema: Desc,
  request: MessageShape<Desc>,
): void {
  if (format === "json" || format === "yaml") {
    const json = toJson(schema, request);
    io.stdout.write(format === "json" ? renderJson(json) : renderYaml(json));
  } else if (isHumanReadable(format)) {
    io.stdout.write(`${summary} (dry run)\n`);
  }
  io.stderr.write(
    "dry run: nothing was sent to change the server (the API has no server-side dry run, so its validation did not run)\n",
  );
}
