import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ErrorDetailSchema, VClusterService } from "@open-vcluster/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliSandbox } from "./cli-harness.js";

// A stand-in server that refuses every create the way the API does for a request with several
// bad fields: INVALID_ARGUMENT with every violation in ErrorDetail, some left out for size.
let server: Server;
let url: string;
let cli: CliSandbox;

function refuse(): never {
  const detail = create(ErrorDetailSchema, {
    reason: "INVALID_FIELD",
    field: "spec.replicas",
    violations: [
      { field: "spec.replicas", description: "must be between 1 and 9" },
      { field: "spec.resources.cpu_request", description: 'invalid quantity "lots"' },
      { field: "labels[Team]", description: "keys must be lower case" },
      { field: "spec.network.pod_cidr", description: "must be a CIDR" },
    ],
    omittedViolations: 2,
  });
  throw new ConnectError("spec.replicas: must be between 1 and 9; and 5 more", Code.InvalidArgument, undefined, [
    { desc: ErrorDetailSchema, value: detail },
  ]);
}

beforeAll(async () => {
  const routes = (router: ConnectRouter) => router.service(VClusterService, { createVCluster: refuse });
  server = createServer(connectNodeAdapter({ routes }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cli = await CliSandbox.create({ VCLUSTER_API_SERVER: url });
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await cli?.dispose();
});

describe("a request refused for several fields", () => {
  it("lists every violation with the flag that sets the field, and how many were left out", async () => {
    const result = await cli.run(["create", "x", "--replicas", "0", "--cpu-request", "lots", "--label", "Team=a"]);
    expect(result.code).toBe(8);
    expect(result.stderr).toBe(
      [
        "error: spec.replicas: must be between 1 and 9; and 5 more",
        "  field:  spec.replicas (--replicas)",
        "  reason: INVALID_FIELD",
        "  violations (6):",
        "    - spec.replicas (--replicas): must be between 1 and 9",
        '    - spec.resources.cpu_request (--cpu-request): invalid quantity "lots"',
        "    - labels[Team] (--label): keys must be lower case",
        "    - spec.network.pod_cidr (--pod-cidr): must be a CIDR",
        "    … and 2 more the server did not list",
        "",
      ].join("\n"),
    );
  });
});
