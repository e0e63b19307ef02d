import type { Snapshot } from "@open-vcluster/api";
import { isNotFound, type VClusterApiClient } from "@open-vcluster/core";

/**
 * Finds a snapshot by name in the namespace, else by id: people type names, while ids are what
 * other tools print. A name is tried first because both are DNS-1123 labels.
 */
export async function findSnapshot(client: VClusterApiClient, nameOrId: string, namespace: string): Promise<Snapshot> {
  try {
    const { snapshot } = await client.snapshots.getSnapshot({ name: nameOrId, namespace });
    if (snapshot) return snapshot;
    throw new Error("the server returned no snapshot");
  } catch (byName) {
    if (!isNotFound(byName)) throw byName;
    try {
      const { snapshot } = await client.snapshots.getSnapshot({ id: nameOrId });
      if (snapshot) return snapshot;
    } catch {
      // The name lookup's NOT_FOUND is the clearer message.
    }
    throw byName;
  }
}
