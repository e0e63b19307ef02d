export * from "@open-vcluster/api";
export * from "@open-vcluster/core";
export { createWebClient, type WebClientOptions } from "./web-client.js";
export { createWebTransportFactory, type WebTransportSettings } from "./web-transport.js";
