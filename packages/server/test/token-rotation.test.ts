import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { WatchEventType } from "@open-vcluster/api";
import {
  bindHelpers,
  ManualClock as ClientClock,
  cachedToken,
  clientInterceptors,
  resourceVersionOf,
  type WatchEvent,
} from "@open-vcluster/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/index.js";
import { API_AUDIENCE, TestIssuer } from "./oidc-issuer.js";
import { testServer } from "./support.js";

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(() => issuer.close());

const LIFETIME_S = 600;

describe("a watch across token rotations", () => {
  it.each(["connect", "grpc"] as const)(
    "%s: the stream ends when its token expires and resumes with a fresh one, missing nothing",
    async (protocol) => {
      const serverClock = new ManualClock(Date.now());
      const server = await testServer({
        clock: serverClock,
        heartbeatIntervalMs: 3_600_000,
        auth: {
          authenticators: [
            { oidc: { issuer: issuer.url, audiences: [API_AUDIENCE], claims: { adminGroups: ["platform-admins"] } } },
          ],
        },
      });
      // The client's clock moves with the server's, as two machines' wall clocks do.
      const clientClock = new ClientClock(serverClock.now().getTime());
      let issued = 0;
      const token = cachedToken(
        async () => {
          issued += 1;
          const now = Math.floor(clientClock.now() / 1000);
          return issuer.forge({ sub: "automation", groups: ["platform-admins"], iat: now, exp: now + LIFETIME_S });
        },
        { clock: clientClock, refreshBeforeMs: 30_000 },
      );
      const options = { baseUrl: server.url, token, retry: false as const };
      const transport = (protocol === "grpc" ? createGrpcTransport : createConnectTransport)({
        baseUrl: server.url,
        httpVersion: "2",
        interceptors: clientInterceptors(options),
      });
      const client = bindHelpers(transport, { token });

      const statuses: string[] = [];
      const seen: WatchEvent[] = [];
      const watch = client.watch({}, { onStatus: (s) => statuses.push(s) });
      const waiters = new Set<() => void>();
      const consuming = (async () => {
        for await (const event of watch) {
          seen.push(event);
          for (const wake of waiters) wake();
        }
      })();
      const sawAdded = (name: string) =>
        new Promise<void>((resolve) => {
          const check = () => {
            if (seen.some((e) => e.type === WatchEventType.ADDED && e.vcluster.name === name)) {
              waiters.delete(check);
              resolve();
            }
          };
          waiters.add(check);
          check();
        });

      const names: string[] = [];
      for (let rotation = 1; rotation <= 3; rotation++) {
        for (const name of [`before-${rotation}`, `during-${rotation}`]) {
          if (name.startsWith("during")) {
            // The token expires: the server ends the stream, and the next change is made with
            // a new token while the watch reconnects.
            serverClock.advance(LIFETIME_S * 1000);
            await clientClock.advance(LIFETIME_S * 1000);
          }
          await client.vclusters.createVCluster({ name });
          names.push(name);
          await sawAdded(name);
        }
      }
      await watch.close();
      await consuming.catch(() => undefined);

      const added = seen.filter((e) => e.type === WatchEventType.ADDED).map((e) => e.vcluster.name);
      expect(added).toEqual(names);
      const versions = seen.map((e) => BigInt(resourceVersionOf(e.vcluster)));
      expect(versions).toEqual([...versions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(new Set(versions).size).toBe(versions.length);
      expect(issued).toBe(4);
      expect(statuses.filter((s) => s === "reconnecting").length).toBeGreaterThanOrEqual(3);
    },
  );
});
