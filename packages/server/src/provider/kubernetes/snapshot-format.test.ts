import { describe, expect, it } from "vitest";
import {
  isDone,
  kubeTime,
  optionsForSnapshot,
  optionsJson,
  optionsSecret,
  parseStorageUrl,
  readRequest,
  requestConfigMap,
  requestJson,
  requestUrl,
  withRelease,
} from "./snapshot-format.js";

// The expected JSON is vcluster's: its snapshot API types marshalled by Go's encoding/json
// (nested option structs always present, empty fields omitted, []byte as base64).

describe("snapshot storage URLs as vcluster parses them", () => {
  it("reads container paths", () => {
    const options = parseStorageUrl("container:///data/snapshots");
    expect(options.type).toBe("container");
    expect(options.container).toEqual({ path: "/data/snapshots" });
    expect(requestUrl(options)).toBe("container:///data/snapshots");
    expect(() => parseStorageUrl("container://relative/path")).toThrow(/relative paths are not supported/);
  });

  it("reads S3 buckets, keys and base64-encoded credentials from the query", () => {
    const key = Buffer.from("AKIA123").toString("base64");
    const secret = Buffer.from("s3cr3t").toString("base64");
    const options = parseStorageUrl(
      `s3://my-bucket/backups?access-key-id=${key}&secret-access-key=${secret}&region=eu-west-1&force-path-style=true`,
    );
    expect(options.s3).toEqual({
      bucket: "my-bucket",
      key: "backups",
      "access-key-id": "AKIA123",
      "secret-access-key": "s3cr3t",
      region: "eu-west-1",
      "force-path-style": true,
    });
    // Credentials never reach the request's URL.
    expect(requestUrl(options)).toBe("s3://my-bucket/backups");
    expect(() => parseStorageUrl("s3://my-bucket")).toThrow(/key is missing/);
    expect(() => parseStorageUrl("s3://b/k?color=red")).toThrow(/unknown snapshot URL option color/);
  });

  it("reads OCI repositories with user:password", () => {
    const options = parseStorageUrl("oci://robot:pa%24s@registry.example.com/team/snaps");
    expect(options.oci).toEqual({
      repository: "registry.example.com/team/snaps",
      username: "robot",
      password: "pa$s",
    });
    expect(requestUrl(options)).toBe("oci://registry.example.com/team/snaps");
  });

  it("refuses what vcluster cannot store to", () => {
    expect(() => parseStorageUrl("ftp://host/x")).toThrow(/scheme ftp is not supported/);
    expect(() => parseStorageUrl("not a url")).toThrow(/is not a URL/);
  });

  it("gives every snapshot its own file or tag under the configured URL", () => {
    const at = { namespace: "team-a", name: "alpha", snapshotId: "0b9c" };
    expect(requestUrl(optionsForSnapshot(parseStorageUrl("container:///data/snaps/"), at))).toBe(
      "container:///data/snaps/team-a/alpha-0b9c.tar.gz",
    );
    expect(requestUrl(optionsForSnapshot(parseStorageUrl("s3://b/prefix"), at))).toBe(
      "s3://b/prefix/team-a/alpha-0b9c.tar.gz",
    );
    expect(requestUrl(optionsForSnapshot(parseStorageUrl("oci://r.example.com/snaps:latest"), at))).toBe(
      "oci://r.example.com/snaps:alpha-0b9c",
    );
  });
});

describe("snapshot request objects in vcluster's format", () => {
  const at = { namespace: "team-a", name: "alpha", snapshotId: "id-1" };
  const labels = {
    "vcluster.loft.sh/vcluster-namespace": "team-a",
    "vcluster.loft.sh/vcluster-name": "alpha",
    "vcluster.loft.sh/snapshot-request": "",
    "vcluster.open-vcluster.io/snapshot-id": "id-1",
  };

  it("writes the options Secret: generated name, labels, snapshotOptions JSON with the release", () => {
    const options = withRelease(parseStorageUrl("container:///data/x.tar.gz"), {
      releaseName: "alpha",
      releaseNamespace: "team-a",
      chartName: "vcluster",
      chartVersion: "0.30.0",
      values: "controlPlane: {}\n",
    });
    const secret = optionsSecret(at, options, "create");
    expect(secret.metadata).toEqual({ generateName: "alpha-snapshot-request-", namespace: "team-a", labels });
    const json = Buffer.from(secret.data?.snapshotOptions ?? "", "base64").toString("utf8");
    expect(json).toBe(
      '{"type":"container","s3":{},"container":{"path":"/data/x.tar.gz"},"oci":{},"azure":{},"file":{},' +
        `"release":{"releaseName":"alpha","releaseNamespace":"team-a","chartName":"vcluster","chartVersion":"0.30.0","values":"${Buffer.from("controlPlane: {}\n").toString("base64")}"}}`,
    );
    expect(optionsSecret(at, options, "delete").metadata?.generateName).toBe("alpha-snapshot-request-delete-");
    expect(optionsJson(parseStorageUrl("oci://r.io/x"))).toBe(
      '{"type":"oci","s3":{},"container":{},"oci":{"repository":"r.io/x"},"azure":{},"file":{}}',
    );
  });

  it("writes the request ConfigMap: the Secret's name, labels, snapshotRequest JSON", () => {
    const request = {
      metadata: {
        name: "alpha-snapshot-request-abcde",
        creationTimestamp: kubeTime(new Date("2026-12-01T10:00:00.123Z")),
      },
      spec: { url: "container:///data/x.tar.gz" },
      status: { error: {} },
    };
    const configMap = requestConfigMap(at, request);
    expect(configMap.metadata).toEqual({ name: "alpha-snapshot-request-abcde", namespace: "team-a", labels });
    expect(configMap.data?.snapshotRequest).toBe(
      '{"metadata":{"name":"alpha-snapshot-request-abcde","creationTimestamp":"2026-12-01T10:00:00Z"},' +
        '"spec":{"url":"container:///data/x.tar.gz"},"status":{"error":{}}}',
    );
    expect(requestJson({ ...request, status: { phase: "Deleting", error: {} } })).toContain(
      '"status":{"phase":"Deleting","error":{}}',
    );
  });

  it("reads the status vcluster writes back, and knows when it is done", () => {
    const read = readRequest({
      metadata: { name: "r", namespace: "team-a" },
      data: {
        snapshotRequest:
          '{"metadata":{"name":"r","creationTimestamp":"2026-12-01T10:00:00Z"},"spec":{"url":"s3://b/k"},"status":{"phase":"Failed","error":{"message":"access denied"}}}',
      },
    });
    expect(read.status).toEqual({ phase: "Failed", error: { message: "access denied" } });
    expect(isDone(read)).toBe(true);
    expect(isDone({ ...read, status: { phase: "CreatingEtcdBackup", error: {} } })).toBe(false);
    expect(isDone({ ...read, status: { error: {} } })).toBe(false);
    expect(() => readRequest({ metadata: { name: "x" }, data: {} })).toThrow(/no key snapshotRequest/);
  });
});
