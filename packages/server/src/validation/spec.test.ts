import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { VClusterSpecSchema } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { validateSpec } from "./spec.js";

type SpecInit = MessageInitShape<typeof VClusterSpecSchema>;

const ETCD = "controlPlane:\n  backingStore:\n    etcd:\n      embedded:\n        enabled: true\n";

const VALID: SpecInit = {
  kubernetesVersion: "1.33.4",
  resources: { cpuRequest: "200m", cpuLimit: "2", memoryRequest: "256Mi", memoryLimit: "4Gi" },
  replicas: 3,
  enableHa: true,
  helmValues: ETCD,
  distro: "k8s",
  network: {
    podCidr: "10.244.0.0/16",
    serviceCidr: "10.96.0.0/12",
    dnsServiceIp: "10.96.0.10",
    dns: {
      nameservers: ["1.1.1.1", "2606:4700:4700::1111"],
      searches: ["svc.cluster.local", "example.com."],
      options: ["ndots:2", "edns0"],
    },
  },
  storage: { enablePersistence: true, persistenceSize: "5Gi", persistenceStorageClass: "fast-ssd" },
  sync: { customResources: ["certificates.cert-manager.io", "deployments.apps"] },
  plugins: [
    { name: "hooks", version: "v0.1.0", config: "key: value\n", enabled: true },
    { name: "metrics", config: '{"a":1}' },
  ],
  ingress: {
    enabled: true,
    hostname: "my-vcluster.example.com",
    ingressClass: "nginx",
    tls: { enabled: true, useCertManager: true, issuerName: "letsencrypt" },
    annotations: { "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS" },
  },
  serviceAccount: { name: "vc-control-plane", annotations: { "iam.gke.io/gcp-service-account": "x@y.iam" } },
  isolationMode: "full",
};

function spec(init: SpecInit) {
  return create(VClusterSpecSchema, init);
}

describe("validateSpec", () => {
  it("accepts an empty spec (every field takes a default)", () => {
    expect(validateSpec(spec({}))).toEqual([]);
  });

  it("accepts a fully populated valid spec", () => {
    expect(validateSpec(spec(VALID))).toEqual([]);
  });

  it.each<[string, SpecInit, string, RegExp]>([
    ["bad version", { kubernetesVersion: "1.33" }, "spec.kubernetes_version", /MAJOR\.MINOR\.PATCH/],
    ["unsupported version", { kubernetesVersion: "1.29.0" }, "spec.kubernetes_version", /1\.29 is not supported/],
    ["bad cpu", { resources: { cpuRequest: "lots" } }, "spec.resources.cpu_request", /invalid quantity "lots"/],
    ["zero cpu", { resources: { cpuLimit: "0" } }, "spec.resources.cpu_limit", /greater than zero/],
    ["negative memory", { resources: { memoryRequest: "-1Gi" } }, "spec.resources.memory_request", /greater than zero/],
    ["sub-millicore cpu", { resources: { cpuRequest: "100u" } }, "spec.resources.cpu_request", /at least 1m/],
    [
      "fractional bytes",
      { resources: { memoryLimit: "100m" } },
      "spec.resources.memory_limit",
      /whole number of bytes/,
    ],
    [
      "cpu limit below request",
      { resources: { cpuRequest: "2", cpuLimit: "500m" } },
      "spec.resources.cpu_limit",
      /must be greater than or equal to cpu_request \(500m < 2\)/,
    ],
    [
      "memory limit below request",
      { resources: { memoryRequest: "2Gi", memoryLimit: "1Gi" } },
      "spec.resources.memory_limit",
      /greater than or equal to memory_request/,
    ],
    [
      "ephemeral limit below request",
      { resources: { ephemeralStorageRequest: "2Gi", ephemeralStorageLimit: "1000Mi" } },
      "spec.resources.ephemeral_storage_limit",
      /greater than or equal to ephemeral_storage_request/,
    ],
    ["negative replicas", { replicas: -1 }, "spec.replicas", /between 1 and 9 \(got -1\)/],
    ["too many replicas", { replicas: 10, helmValues: ETCD }, "spec.replicas", /between 1 and 9 \(got 10\)/],
    ["HA without etcd", { replicas: 3 }, "spec.replicas", /needs an etcd backing store/],
    ["2 replicas without etcd", { replicas: 2, helmValues: "controlPlane: {}\n" }, "spec.replicas", /etcd/],
    [
      "enable_ha with 2 replicas",
      { replicas: 2, enableHa: true, helmValues: ETCD },
      "spec.replicas",
      /at least 3 when enable_ha is set \(got 2\)/,
    ],
    [
      "enable_ha with default replicas",
      { enableHa: true, helmValues: ETCD },
      "spec.replicas",
      /at least 3 .*\(got 1\)/,
    ],
    ["bad pod cidr", { network: { podCidr: "10.244.0.0" } }, "spec.network.pod_cidr", /must be a CIDR/],
    ["pod cidr host bits", { network: { podCidr: "10.244.1.0/16" } }, "spec.network.pod_cidr", /host bits set/],
    ["bad service cidr", { network: { serviceCidr: "10.96.0.0/40" } }, "spec.network.service_cidr", /prefix length/],
    [
      "huge service cidr",
      { network: { serviceCidr: "10.0.0.0/8" } },
      "spec.network.service_cidr",
      /too large: .* at least 12/,
    ],
    ["huge IPv6 service cidr", { network: { serviceCidr: "fd00::/64" } }, "spec.network.service_cidr", /at least 108/],
    [
      "overlapping cidrs",
      { network: { podCidr: "10.0.0.0/8", serviceCidr: "10.96.0.0/12" } },
      "spec.network.service_cidr",
      /must not overlap pod_cidr \(10\.96\.0\.0\/12 overlaps 10\.0\.0\.0\/8\)/,
    ],
    [
      "overlapping IPv6 cidrs",
      { network: { podCidr: "fd00:10::/56", serviceCidr: "fd00:10::/112" } },
      "spec.network.service_cidr",
      /must not overlap/,
    ],
    [
      "dns ip not an ip",
      { network: { dnsServiceIp: "10.96.0" } },
      "spec.network.dns_service_ip",
      /IPv4 or IPv6 address/,
    ],
    [
      "dns ip outside service cidr",
      { network: { serviceCidr: "10.96.0.0/12", dnsServiceIp: "10.200.0.10" } },
      "spec.network.dns_service_ip",
      /inside service_cidr 10\.96\.0\.0\/12/,
    ],
    [
      "dns ip of the other family",
      { network: { serviceCidr: "10.96.0.0/12", dnsServiceIp: "fd00::a" } },
      "spec.network.dns_service_ip",
      /inside service_cidr/,
    ],
    [
      "nameserver not an ip",
      { network: { dns: { nameservers: ["8.8.8.8", "dns.google"] } } },
      "spec.network.dns.nameservers[1]",
      /IPv4 or IPv6/,
    ],
    [
      "too many nameservers",
      { network: { dns: { nameservers: ["1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4"] } } },
      "spec.network.dns.nameservers",
      /at most 3/,
    ],
    [
      "bad search domain",
      { network: { dns: { searches: ["Bad_Domain"] } } },
      "spec.network.dns.searches[0]",
      /DNS-1123 subdomain/,
    ],
    [
      "bad resolver option",
      { network: { dns: { options: ["ndots: 2"] } } },
      "spec.network.dns.options[0]",
      /"name" or "name:value"/,
    ],
    [
      "bad persistence size",
      { storage: { persistenceSize: "5GB" } },
      "spec.storage.persistence_size",
      /invalid quantity/,
    ],
    [
      "bad storage class",
      { storage: { defaultStorageClass: "Fast" } },
      "spec.storage.default_storage_class",
      /DNS-1123 subdomain/,
    ],
    [
      "legacy distro k3s",
      { distro: "k3s" },
      "spec.distro",
      /legacy distribution; current vcluster supports only "k8s"/,
    ],
    ["legacy distro k0s", { distro: "k0s" }, "spec.distro", /supports only "k8s"/],
    ["legacy distro eks", { distro: "eks" }, "spec.distro", /supports only "k8s"/],
    ["unknown distro", { distro: "k9s" }, "spec.distro", /must be "k8s" \(got "k9s"\)/],
    ["helm values not yaml", { helmValues: "a: [1" }, "spec.helm_values", /must be valid YAML or JSON/],
    ["helm values a list", { helmValues: "- 1\n" }, "spec.helm_values", /mapping at the top level \(got a list\)/],
    [
      "custom resource without group",
      { sync: { customResources: ["certificates"] } },
      "spec.sync.custom_resources[0]",
      /"plural\.group"/,
    ],
    [
      "custom resource uppercase",
      { sync: { customResources: ["Certificates.cert-manager.io"] } },
      "spec.sync.custom_resources[0]",
      /"plural\.group"/,
    ],
    [
      "duplicate custom resource",
      { sync: { customResources: ["a.example.com", "b.example.com", "a.example.com"] } },
      "spec.sync.custom_resources[2]",
      /duplicates spec\.sync\.custom_resources\[0\]/,
    ],
    ["plugin without name", { plugins: [{ name: "" }] }, "spec.plugins[0].name", /is required/],
    ["plugin bad name", { plugins: [{ name: "ok" }, { name: "Bad_Name" }] }, "spec.plugins[1].name", /DNS-1123 label/],
    [
      "duplicate plugin",
      { plugins: [{ name: "a" }, { name: "a" }] },
      "spec.plugins[1].name",
      /duplicates spec\.plugins\[0\]\.name/,
    ],
    [
      "plugin version with spaces",
      { plugins: [{ name: "a", version: "1 2" }] },
      "spec.plugins[0].version",
      /without whitespace/,
    ],
    ["plugin config not a mapping", { plugins: [{ name: "a", config: "[1,2]" }] }, "spec.plugins[0].config", /mapping/],
    [
      "ingress without host",
      { ingress: { enabled: true } },
      "spec.ingress.hostname",
      /required when the ingress is enabled/,
    ],
    ["ingress bad host", { ingress: { hostname: "Not A Host" } }, "spec.ingress.hostname", /DNS-1123 subdomain/],
    [
      "ingress long host label",
      { ingress: { hostname: `${"a".repeat(64)}.example.com` } },
      "spec.ingress.hostname",
      /at most 63/,
    ],
    ["ingress bad class", { ingress: { ingressClass: "Nginx" } }, "spec.ingress.ingress_class", /DNS-1123 subdomain/],
    [
      "cert-manager without issuer",
      { ingress: { enabled: true, hostname: "a.example.com", tls: { enabled: true, useCertManager: true } } },
      "spec.ingress.tls.issuer_name",
      /required when use_cert_manager is set/,
    ],
    [
      "bad tls secret",
      { ingress: { tls: { secretName: "My Secret" } } },
      "spec.ingress.tls.secret_name",
      /DNS-1123 subdomain/,
    ],
    [
      "bad ingress annotation",
      { ingress: { annotations: { "bad key!": "x" } } },
      'spec.ingress.annotations["bad key!"]',
      /annotation key "bad key!"/,
    ],
    [
      "bad service account",
      { serviceAccount: { name: "Control_Plane" } },
      "spec.service_account.name",
      /DNS-1123 subdomain/,
    ],
    [
      "bad service account annotation",
      { serviceAccount: { annotations: { "/x": "" } } },
      'spec.service_account.annotations["/x"]',
      /prefix/,
    ],
    ["bad isolation mode", { isolationMode: "strict" }, "spec.isolation_mode", /"full" or "lite" \(got "strict"\)/],
  ])("%s", (_, init, field, description) => {
    const violations = validateSpec(spec(init));
    expect(violations.map((v) => v.field)).toContain(field);
    expect(violations.find((v) => v.field === field)?.description).toMatch(description);
  });

  it("reports every violation, in field order", () => {
    const violations = validateSpec(spec({ kubernetesVersion: "x", replicas: 12, distro: "k3s", isolationMode: "x" }));
    expect(violations.map((v) => v.field)).toEqual([
      "spec.kubernetes_version",
      "spec.replicas",
      "spec.distro",
      "spec.replicas",
      "spec.isolation_mode",
    ]);
  });

  it("prefixes fields with the given path", () => {
    expect(validateSpec(spec({ replicas: 10, helmValues: ETCD }), "vcluster.spec")).toEqual([
      { field: "vcluster.spec.replicas", description: "must be between 1 and 9 (got 10)" },
    ]);
  });

  it("skips cross-field rules in partial mode but keeps field rules", () => {
    const init: SpecInit = {
      replicas: 3,
      enableHa: true,
      ingress: { enabled: true, tls: { useCertManager: true } },
      resources: { cpuRequest: "oops" },
    };
    expect(validateSpec(spec(init), "spec", { partial: true }).map((v) => v.field)).toEqual([
      "spec.resources.cpu_request",
    ]);
    expect(validateSpec(spec(init)).map((v) => v.field)).toEqual([
      "spec.resources.cpu_request",
      "spec.replicas",
      "spec.ingress.hostname",
      "spec.ingress.tls.issuer_name",
    ]);
  });
});
