import { describe, expect, it } from "vitest";
import {
  connectedContexts,
  type Kubeconfig,
  kubeconfigPath,
  mergeAndSwitch,
  removeConnected,
} from "./kubeconfig-file.js";

function own(): Kubeconfig {
  return {
    clusters: [{ name: "prod", cluster: { server: "https://prod:6443" } }],
    users: [{ name: "prod", user: { token: "t" } }],
    contexts: [{ name: "prod", context: { cluster: "prod", user: "prod" } }],
    "current-context": "prod",
    preferences: {},
  };
}

function fromServer(name: string): Kubeconfig {
  const entry = `vcluster_${name}_default`;
  return {
    clusters: [{ name: entry, cluster: { server: `https://${name}:443` } }],
    users: [{ name: entry, user: { token: "v" } }],
    contexts: [{ name: entry, context: { cluster: entry, user: entry } }],
    "current-context": entry,
  };
}

describe("connect and disconnect", () => {
  it("merges and switches, then removes exactly what it added and switches back", () => {
    const config = own();
    expect(mergeAndSwitch(config, fromServer("dev"), "default/dev")).toBe("vcluster_dev_default");
    expect(config["current-context"]).toBe("vcluster_dev_default");
    expect(config.clusters.map((c) => c.name)).toEqual(["prod", "vcluster_dev_default"]);
    // Connecting again keeps "prod" as the context to return to.
    mergeAndSwitch(config, fromServer("dev"), "default/dev");
    expect(connectedContexts(config, "default/dev")).toEqual(["vcluster_dev_default"]);
    expect(removeConnected(config, "vcluster_dev_default")).toBe("prod");
    expect(config).toEqual(own());
  });

  it("switches between vclusters and back to the context before the first", () => {
    const config = own();
    mergeAndSwitch(config, fromServer("a"), "default/a");
    mergeAndSwitch(config, fromServer("b"), "default/b");
    expect(removeConnected(config, "vcluster_b_default")).toBe("vcluster_a_default");
    expect(removeConnected(config, "vcluster_a_default")).toBe("prod");
  });

  it("picks the file as kubectl does", () => {
    expect(kubeconfigPath({ KUBECONFIG: "/a/one:/a/two" }, "/home/u")).toBe("/a/one");
    expect(kubeconfigPath({}, "/home/u")).toBe("/home/u/.kube/config");
  });
});
