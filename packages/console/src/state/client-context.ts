import type { VClusterApiClient } from "@open-vcluster/web";
import { createContext } from "preact";
import { useContext } from "preact/hooks";

export const ClientContext = createContext<VClusterApiClient | undefined>(undefined);

export function useClient(): VClusterApiClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error("useClient needs a ClientContext provider");
  return client;
}
