// Runs Verdaccio on 127.0.0.1 with the configuration file given as the only argument and
// prints "registry listening on <url>" once it accepts connections.
import type { AddressInfo } from "node:net";
import { runServer } from "verdaccio";

const configPath = process.argv[2];
if (!configPath) throw new Error("usage: node verdaccio-process.ts <config.yaml>");
const server = await runServer(configPath);
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  console.log(`registry listening on http://127.0.0.1:${port}/`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
