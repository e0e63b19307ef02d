import * as node from "@open-vcluster/client";
import { describe, expect, it } from "vitest";
import * as web from "./index.js";

/**
 * What each package adds for its own runtime (the transport, and on Node the pod's
 * service-account token file, which browsers cannot read); everything else must be the same.
 */
const transportOnly = {
  node: ["createClient", "createNodeTransport", "serviceAccountToken", "SERVICE_ACCOUNT_TOKEN_PATH"],
  web: ["createWebClient", "createWebTransportFactory"],
};

const shared = (exports: object, own: string[]) =>
  Object.keys(exports)
    .filter((name) => !own.includes(name))
    .sort();

describe("the browser and Node clients' API surface", () => {
  it("exports the same names apart from the transport", () => {
    expect(shared(web, transportOnly.web)).toEqual(shared(node, transportOnly.node));
    for (const name of transportOnly.web) expect(web).toHaveProperty(name);
    for (const name of transportOnly.node) expect(node).toHaveProperty(name);
  });

  it("exports the very same values, so instanceof and enum comparisons hold across them", () => {
    const nodeValues = new Map(Object.entries(node));
    for (const [name, value] of Object.entries(web)) {
      if (!transportOnly.web.includes(name)) expect(value, name).toBe(nodeValues.get(name));
    }
    expect(web.Phase.RUNNING).toBe(node.Phase.RUNNING);
    expect(web.WatchEventType.ADDED).toBe(node.WatchEventType.ADDED);
    expect(web.VClusterService.typeName).toBe("vcluster.api.v1.VClusterService");
  });
});
