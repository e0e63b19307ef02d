/** What a word names, when its candidates have to come from the server or the config file. */
export type ValueKind = "vcluster" | "snapshot" | "namespace" | "context";

/** Commands whose arguments name existing objects (every argument of the command has the kind). */
const ARGUMENT_KINDS: Record<string, ValueKind> = {
  get: "vcluster",
  describe: "vcluster",
  wait: "vcluster",
  connect: "vcluster",
  disconnect: "vcluster",
  update: "vcluster",
  scale: "vcluster",
  suspend: "vcluster",
  resume: "vcluster",
  delete: "vcluster",
  restore: "vcluster",
  kubeconfig: "vcluster",
  watch: "vcluster",
  "snapshot create": "vcluster",
  "snapshot get": "snapshot",
  "snapshot delete": "snapshot",
  "config use-context": "context",
  "config set-context": "context",
  "config delete-context": "context",
};

/** Value flags naming existing objects, the same in every command that has them. */
const FLAG_KINDS: Record<string, ValueKind> = {
  "--namespace": "namespace",
  "--new-namespace": "namespace",
  "--context": "context",
  "--vcluster": "vcluster",
};

/** Value flags whose meaning depends on the command ("--name" is a new snapshot's name elsewhere). */
const COMMAND_FLAG_KINDS: Record<string, Record<string, ValueKind>> = {
  restore: { "--snapshot": "snapshot" },
  "kubeconfig token": { "--name": "vcluster" },
};

export function argumentKind(path: string[]): ValueKind | undefined {
  return ARGUMENT_KINDS[path.join(" ")];
}

export function flagKind(path: string[], long: string | undefined): ValueKind | undefined {
  if (!long) return undefined;
  return COMMAND_FLAG_KINDS[path.join(" ")]?.[long] ?? FLAG_KINDS[long];
}

/** Every command path the tables name, so a test can check that they all still exist. */
export function pathsWithKinds(): string[] {
  return [...Object.keys(ARGUMENT_KINDS), ...Object.keys(COMMAND_FLAG_KINDS)];
}
